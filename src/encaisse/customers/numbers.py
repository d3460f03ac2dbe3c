# SPDX-License-Identifier: AGPL-3.0-or-later
"""Customer numbers: ``C`` + 6 digits + a Damm check digit, e.g. ``C1000015``.

Customers copy this number into their bank transfer comments, where typos happen. The Damm
algorithm (python-stdnum) detects every single-digit error and every swap of adjacent digits, so a
mistyped number is recognised as invalid instead of crediting the wrong customer.

>>> format_number(1)
'C1000015'
>>> normalize("c 100 0015")
'C1000015'
>>> is_valid("C1000014")
False
"""

from __future__ import annotations

import re

from stdnum import damm

PREFIX = "C"
OFFSET = 100_000  # numbers start at 100001: always 6 digits, never a leading zero
_PATTERN = re.compile(r"^C\d{7,}$")


def format_number(sequence_value: int) -> str:
    digits = str(OFFSET + sequence_value)
    return f"{PREFIX}{digits}{damm.calc_check_digit(digits)}"


def normalize(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value).upper()


def is_valid(value: str) -> bool:
    number = normalize(value)
    return bool(_PATTERN.match(number)) and damm.is_valid(number[1:])
