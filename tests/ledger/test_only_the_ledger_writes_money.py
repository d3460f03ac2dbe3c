# SPDX-License-Identifier: AGPL-3.0-or-later
"""No module outside ``ledger`` writes the ledger's tables (entries, transactions, balances).

Every SQL statement the database receives over a billing run, a top-up and its settlement, an
invoice issued now, a credit note and a reversal is captured (``connection.execute_wrapper``);
for each write to a ledger table, the code that sent it is the innermost ``encaisse`` module on
the Python stack, base helpers of ``encaisse.core`` (the append-only model, SQL helpers) aside.
It must be in ``encaisse.ledger``.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from encaisse.invoicing.credit_notes import issue_credit_note
from encaisse.invoicing.issuance import issue_invoice_now
from encaisse.invoicing.models import Invoice
from encaisse.ledger.models import Account, Entry, LedgerTransaction
from encaisse.payments.services import reverse_top_up

pytestmark = pytest.mark.django_db

LEDGER_TABLES = {m._meta.db_table for m in (Account, Entry, LedgerTransaction)}
WRITE = re.compile(
    r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(?P<table>\w+)"?', re.IGNORECASE | re.ASCII
)


def _sender() -> str:
    """The innermost module of ours (outside ``encaisse.core``'s base helpers) on the stack."""
    frame = sys._getframe(2)
    first_outside_django = ""
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("encaisse.") and not module.startswith("encaisse.core."):
            return module
        if not first_outside_django and not module.startswith(("django", "encaisse.core")):
            first_outside_django = module
        frame = frame.f_back
    return first_outside_django


@dataclass
class LedgerWrites:
    by_sender: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        match = WRITE.match(sql)
        if match and match["table"] in LEDGER_TABLES:
            verb = match[1].split()[0].upper()
            self.by_sender[(_sender(), verb, match["table"])] += 1
        return execute(sql, params, many, context)

    def senders(self) -> set[str]:
        return {sender for sender, _, _ in self.by_sender}

    def writes(self) -> set[tuple[str, str]]:
        return {(verb, table) for _, verb, table in self.by_sender}


@contextmanager
def captured() -> Iterator[LedgerWrites]:
    writes = LedgerWrites()
    with connection.execute_wrapper(writes):
        yield writes


def test_every_write_to_the_ledger_comes_from_the_ledger(
    make_customer, charge, top_up, bill, actor, assert_ledger_ok
):
    spender, public_body = make_customer(), make_customer()
    charge(spender, "20.00")
    charge(public_body, "15.00", vat_rate="10")
    with captured() as writes:
        top_up(spender, "5.00")
        bill()  # the set-based billing run: one chunk, both customers
        paid = top_up(public_body, "30.00", method="mandat_administratif")
        charge(spender, "7.50", description="Nom de domaine")
        issue_invoice_now(spender, period_end=Invoice.objects.first().period_end, actor=actor)
        issue_credit_note(
            Invoice.objects.filter(customer=public_body).get(), actor=actor, reason="Doublon"
        )
        reverse_top_up(paid, actor=actor, reason="Mandat rejeté par le comptable public")

    assert writes.senders() and all(s.startswith("encaisse.ledger.") for s in writes.senders()), (
        writes.by_sender
    )
    # Not vacuous: every kind of write happened, by the single posting and the set-based one.
    inserted = LEDGER_TABLES - {Account._meta.db_table}
    assert {("INSERT", table) for table in inserted} <= writes.writes()
    assert ("UPDATE", Account._meta.db_table) in writes.writes()
    assert {"encaisse.ledger.services", "encaisse.ledger.batch"} <= writes.senders()
    assert_ledger_ok()


def test_the_capture_names_a_writer_outside_the_ledger(make_customer):
    account = Account.objects.filter(customer=make_customer()).first()

    def rogue_balance_fix() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Account._meta.db_table} SET floor = floor WHERE id = %s", [account.pk]
            )

    with captured() as writes:
        rogue_balance_fix()
    assert writes.senders() == {__name__}
    assert Account.objects.get(pk=account.pk).balance == Decimal(0)
