# SPDX-License-Identifier: AGPL-3.0-or-later
"""The movements CSV export cannot carry a formula into the customer's spreadsheet (finding 5).

A reason that someone typed starting with ``=``, ``+``, ``-`` or ``@`` is exported with a leading
single quote (shown as text); the amounts we write, negative ones included, stay plain numbers.
"""

from __future__ import annotations

import csv
import doctest
import io

from django.urls import reverse

from encaisse.core import csvsafe
from encaisse.payments.services import record_top_up

HOSTILE_REASONS = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
]


def _export(client) -> list[list[str]]:
    client.cookies["django_language"] = "en"
    response = client.get(reverse("panel:movements_csv"))
    body = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(body), delimiter=";"))


def test_reasons_that_look_like_formulas_are_exported_as_text(alice_client, alice, actor):
    for n, reason in enumerate(HOSTILE_REASONS):
        record_top_up(
            alice.customer, amount="1.00", method="bank_transfer", reference=f"r{n}",
            actor=actor, reason=reason,
        )  # fmt: skip

    rows = _export(alice_client)

    header, *lines = rows
    reasons = [line[header.index("Reason")] for line in lines]
    assert sorted(r for r in reasons if r) == sorted(f"'{reason}" for reason in HOSTILE_REASONS)
    assert not any(cell.startswith(csvsafe.FORMULA_PREFIXES) for line in lines for cell in line[:4])


def test_negative_amounts_stay_numbers(alice_client, alice):
    header, *lines = _export(alice_client)

    amounts = [line[header.index("Amount")] for line in lines]
    assert amounts == ["-5.00", "5.00"]  # the invoice settled from the balance, then the top-up


def test_the_csvsafe_doctests_hold():
    assert doctest.testmod(csvsafe).failed == 0
