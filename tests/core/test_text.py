# SPDX-License-Identifier: AGPL-3.0-or-later
"""Control characters in text input (issue 12, finding 4): one rule for services, forms, API."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import translation

from encaisse.core import text
from encaisse.core.text import (
    BlankText,
    ControlCharacters,
    ControlCharacterValidator,
    clean_text,
    control_character,
    refuse_control_characters,
)

C0 = [chr(code) for code in range(0x20)] + ["\x7f"]
LINE_BREAKS = ["\t", "\n", "\r"]


@pytest.mark.parametrize("character", C0, ids=lambda c: f"U+{ord(c):04X}")
def test_every_c0_character_and_del_is_refused_on_one_line(character):
    with pytest.raises(ControlCharacters):
        refuse_control_characters(f"Hébergement{character}Pro")


@pytest.mark.parametrize(
    "character", sorted(set(C0) - set(LINE_BREAKS)), ids=lambda c: f"U+{ord(c):04X}"
)
def test_multiline_text_refuses_every_control_character_but_tab_and_line_breaks(character):
    with pytest.raises(ControlCharacters):
        refuse_control_characters(f"ligne{character}", multiline=True)


def test_multiline_text_keeps_tabs_and_line_breaks():
    assert refuse_control_characters("a\tb\r\nc", multiline=True) == "a\tb\r\nc"


@pytest.mark.parametrize("value", ["Hébergement Pro", "“Ça” — 9,90 €", "日本語", "\u00a0x", "\x80"])
def test_ordinary_text_and_other_characters_pass(value):
    assert control_character(value) is None


def test_the_message_names_the_character_and_the_field():
    with translation.override("en"), pytest.raises(ControlCharacters) as refused:
        clean_text("Atelier\x00", field="name")

    assert "U+0000" in str(refused.value)
    assert "“name”" in str(refused.value)
    assert refused.value.code == "control_characters"


def test_a_line_break_on_one_line_gets_its_own_message():
    with translation.override("en"), pytest.raises(ControlCharacters) as refused:
        clean_text("Atelier\nNumérique", field="name")

    assert "one line" in str(refused.value)


def test_clean_text_strips_and_refuses_blank_required_text():
    assert clean_text("  Hébergement  ", field="description", required=True) == "Hébergement"
    assert clean_text("   ", field="address complement") == ""
    with translation.override("en"):
        with pytest.raises(BlankText) as refused:
            clean_text(" \u00a0 ", field="description", required=True)
        assert "“description”" in str(refused.value)


def test_the_django_validator_raises_a_form_error():
    validator = ControlCharacterValidator()

    validator("Hébergement")
    with pytest.raises(DjangoValidationError) as refused:
        validator("Héberg\x1bement")
    assert refused.value.code == "control_characters"
    ControlCharacterValidator(multiline=True)("a\nb")
    assert ControlCharacterValidator() == ControlCharacterValidator()
    assert ControlCharacterValidator() != ControlCharacterValidator(multiline=True)


@pytest.mark.parametrize(
    ("pattern", "multiline"),
    [(text.SINGLE_LINE_PATTERN, False), (text.MULTILINE_PATTERN, True)],
)
def test_the_json_schema_patterns_say_the_same_as_the_python_rule(pattern, multiline):
    """The OpenAPI document announces the rule; generated clients and tests rely on it."""
    compiled = re.compile(pattern)
    for code in [*range(0x21), 0x7F, 0x80, 0xE9]:
        value = f"a{chr(code)}b"
        assert bool(compiled.match(value)) == (
            control_character(value, multiline=multiline) is None
        )


def test_the_required_pattern_refuses_blank_text():
    compiled = re.compile(text.REQUIRED_PATTERN)

    assert compiled.match(" Hébergement ")
    assert not compiled.match("   ")
    assert not compiled.match("")
    assert not compiled.match("a\x00")
