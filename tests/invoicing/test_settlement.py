# SPDX-License-Identifier: AGPL-3.0-or-later
"""Money arriving later pays the invoices left due, oldest first, exactly once."""

import datetime as dt
from decimal import Decimal

from encaisse.invoicing.models import Invoice
from encaisse.ledger.models import LedgerTransaction
from encaisse.ledger.selectors import customer_balance

DECEMBER = (dt.date(2026, 12, 1), dt.date(2026, 12, 31))


def test_a_top_up_pays_the_oldest_due_invoice_first(
    make_customer, charge, top_up, bill, assert_ledger_ok
):
    customer = make_customer()
    charge(customer, "10.00")
    bill("2026-11")
    charge(customer, "20.00", period=DECEMBER)
    bill("2026-12")
    november, december = Invoice.objects.filter(customer=customer).order_by("issue_date", "pk")
    top_up(customer, "15.00")
    november.refresh_from_db()
    december.refresh_from_db()
    assert (november.status, november.paid) == ("paid", Decimal("12.00"))
    assert (december.status, december.paid) == ("open", Decimal("3.00"))
    balance = customer_balance(customer)
    assert balance.prepaid == Decimal("0.00")
    assert balance.due == Decimal("21.00")
    assert_ledger_ok()


def test_a_replayed_top_up_credits_and_settles_once(make_customer, charge, top_up, bill):
    customer = make_customer()
    charge(customer, "10.00")
    bill()
    top_up(customer, "50.00", reference="bank-entry-7")
    top_up(customer, "50.00", reference="bank-entry-7")
    invoice = Invoice.objects.get(customer=customer)
    assert invoice.paid == Decimal("12.00")
    assert customer_balance(customer).prepaid == Decimal("38.00")
    assert LedgerTransaction.objects.filter(kind="top_up", customer=customer).count() == 1
