# SPDX-License-Identifier: AGPL-3.0-or-later
"""The messages of schema validation errors, in the client's language.

Pydantic writes its built-in messages ("Field required", "String should have at most 200
characters") in English only. The ``type`` of each error stays as pydantic names it (stable, for
programs); its ``message`` is ours for the types our schemas produce, translated, with the
constraint from the error's ``ctx``. Our own validators (decimal strings, control characters)
already raise translated messages and are passed through, as is any type not listed here.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

MESSAGES: dict[str, Any] = {
    "missing": _("This field is required."),
    "extra_forbidden": _("This field is not part of the request: remove it."),
    "string_type": _("Give a text value (a JSON string)."),
    "string_too_short": _("Give at least %(min_length)s character(s)."),
    "string_too_long": _("Give at most %(max_length)s characters."),
    "string_pattern_mismatch": _("This value does not have the expected form."),
    "int_type": _("Give a whole number."),
    "int_parsing": _("Give a whole number."),
    "bool_type": _("Give true or false."),
    "bool_parsing": _("Give true or false."),
    "date_type": _("Give a date as YYYY-MM-DD."),
    "date_parsing": _("Give a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": _("Give a date as YYYY-MM-DD."),
    "date_from_datetime_inexact": _("Give a date as YYYY-MM-DD, without a time."),
    "value_error": _("This value is not valid."),
    "enum": _("Give one of: %(expected)s."),
    "literal_error": _("Give one of: %(expected)s."),
    "model_attributes_type": _("Give a JSON object."),
    "dict_type": _("Give a JSON object."),
    "list_type": _("Give a JSON list."),
    "json_invalid": _("The request body is not valid JSON."),
}


def message(error: dict[str, Any]) -> str:
    """The translated message of one pydantic error (its own message when not listed)."""
    kind = str(error.get("type", ""))
    if kind == "value_error" and error.get("msg"):
        # A ValueError raised by one of our validators: its text is already ours.
        return str(error["msg"]).removeprefix("Value error, ")
    template = MESSAGES.get(kind)
    if template is None:
        return str(error.get("msg", ""))
    context = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    try:
        return str(template) % context if "%(" in str(template) else str(template)
    except (KeyError, ValueError):
        return str(error.get("msg", ""))
