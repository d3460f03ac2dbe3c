# SPDX-License-Identifier: AGPL-3.0-or-later
"""Text input: C0 control characters are refused wherever text enters, on every engine alike.

PostgreSQL cannot store a NUL byte in a text column (the statement fails, a 500 for the user) while
SQLite stores it: the two engines would disagree about the same input. The other C0 characters
(U+0001-U+001F) and DEL (U+007F) are never typed by a person; in a name, an address or an invoice
line they would reach PDFs, e-mails, CSV exports and Factur-X files, where they break layouts or
hide text. So every text input refuses them with a clear message rather than silently dropping
them (a client that sends them has a bug worth seeing). TAB, LF and CR are allowed only in
multi-line texts (a reason, a comment); a single-line field refuses them too.

One rule, three ways in: :func:`refuse_control_characters` for services (raises the project's
:class:`~encaisse.core.exceptions.ValidationError`), :class:`ControlCharacterValidator` for Django
form fields, and :func:`control_character` for schemas that raise their own error type (the API).

>>> control_character("Hébergement Pro")
>>> control_character("Ligne 1\\nLigne 2")
'\\n'
>>> control_character("Ligne 1\\nLigne 2", multiline=True)
>>> clean_text("  Hébergement  ", field="description")
'Hébergement'
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from .exceptions import ValidationError

#: Every C0 control character and DEL: refused in single-line text.
SINGLE_LINE_FORBIDDEN = "\x00-\x1f\x7f"
#: The same but TAB, LF and CR: refused in multi-line text.
MULTILINE_FORBIDDEN = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_SINGLE_LINE = re.compile(f"[{SINGLE_LINE_FORBIDDEN}]")
_MULTILINE = re.compile(f"[{MULTILINE_FORBIDDEN}]")
#: Patterns for JSON Schema (ECMA-262 syntax), so that API clients and generated tests know the rule.
SINGLE_LINE_PATTERN = r"^[^\u0000-\u001f\u007f]*$"
MULTILINE_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"
#: One line with at least one character that is not a space.
REQUIRED_PATTERN = r"^[^\u0000-\u001f\u007f]*[^\s\u0000-\u001f\u007f][^\u0000-\u001f\u007f]*$"

CONTROL_CHARACTER = _(
    "This text contains a control character (U+%(code)s), which is not allowed: remove it and "
    "try again."
)
LINE_BREAK = _("This text must fit on one line: line breaks and tabs are not allowed.")
FIELD_CONTROL_CHARACTER = _(
    "The field “%(field)s” contains a control character (U+%(code)s), which is not allowed: "
    "remove it and try again."
)
FIELD_LINE_BREAK = _(
    "The field “%(field)s” must fit on one line: line breaks and tabs are not allowed."
)
REQUIRED = _("The field “%(field)s” is required and cannot be only spaces.")


class ControlCharacters(ValidationError):
    message = CONTROL_CHARACTER
    code = "control_characters"


class BlankText(ValidationError):
    message = REQUIRED
    code = "required"


def control_character(value: str, *, multiline: bool = False) -> str | None:
    """The first forbidden character of ``value``, or None when the text is acceptable."""
    found = (_MULTILINE if multiline else _SINGLE_LINE).search(value)
    return found.group() if found else None


def message_for(character: str, field: Any = None) -> str:
    """Why ``character`` is refused, naming ``field`` (a label) when given; translated."""
    if character in "\t\n\r":
        return str(LINE_BREAK) if field is None else str(FIELD_LINE_BREAK) % {"field": field}
    params = {"code": f"{ord(character):04X}", "field": field}
    return str(CONTROL_CHARACTER if field is None else FIELD_CONTROL_CHARACTER) % params


def refuse_control_characters(value: str, *, field: Any = None, multiline: bool = False) -> str:
    """``value`` unchanged, or :class:`ControlCharacters` naming the first forbidden character."""
    character = control_character(value, multiline=multiline)
    if character is not None:
        raise ControlCharacters(message_for(character, field))
    return value


def clean_text(value: Any, *, field: Any, required: bool = False, multiline: bool = False) -> str:
    """Stripped ``value`` without control characters; ``required`` refuses blank text.

    ``field`` is the field's label for messages (a model field's ``verbose_name``). Stripping
    first means a whitespace-only required text is refused rather than stored empty.
    """
    text = refuse_control_characters(str(value or ""), field=field, multiline=multiline).strip()
    if required and not text:
        raise BlankText(field=str(field))
    return text


@deconstructible
class ControlCharacterValidator:
    """The same rule as a Django validator, for form (and model) fields: a form error, not a 500."""

    code = "control_characters"

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: Any) -> None:
        character = control_character(str(value), multiline=self.multiline)
        if character is not None:
            raise DjangoValidationError(message_for(character), code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ControlCharacterValidator) and other.multiline == self.multiline

    def __hash__(self) -> int:
        return hash((type(self), self.multiline))
