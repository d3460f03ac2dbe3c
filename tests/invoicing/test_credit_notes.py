# SPDX-License-Identifier: AGPL-3.0-or-later
"""Corrections are credit notes: revenue and VAT reversed, due cancelled, paid part refunded."""

from decimal import Decimal

import pytest

from encaisse.core.exceptions import ValidationError
from encaisse.invoicing.credit_notes import CreditLine, issue_credit_note
from encaisse.invoicing.exceptions import NothingToCredit
from encaisse.invoicing.models import Invoice
from encaisse.ledger.selectors import customer_balance


def test_full_credit_of_a_paid_invoice_refunds_the_prepaid_balance(
    make_customer, charge, top_up, bill, actor, assert_ledger_ok
):
    customer = make_customer()
    top_up(customer, "30.00")
    charge(customer, "10.00")
    bill()
    invoice = Invoice.objects.get(customer=customer)
    note = issue_credit_note(invoice, actor=actor, reason="service not delivered")
    invoice.refresh_from_db()
    assert note.kind == "credit_note" and note.number.startswith("AV")
    assert note.credited_invoice == invoice and note.total_incl_vat == Decimal("12.00")
    assert (invoice.status, invoice.paid, invoice.credited) == ("cancelled", 0, Decimal("12.00"))
    assert customer_balance(customer).prepaid == Decimal("30.00")
    with pytest.raises(NothingToCredit):
        issue_credit_note(invoice, actor=actor, reason="again")
    assert_ledger_ok()


def test_partial_credit_cancels_the_amount_due_first(
    make_customer, charge, top_up, bill, actor, assert_ledger_ok
):
    customer = make_customer()
    top_up(customer, "6.00")
    charge(customer, "10.00")  # 12.00: 6.00 paid, 6.00 due
    bill()
    invoice = Invoice.objects.get(customer=customer)
    issue_credit_note(
        invoice,
        actor=actor,
        reason="discount",
        lines=[CreditLine("Geste commercial", Decimal("2.50"), Decimal("20"))],
    )
    invoice.refresh_from_db()
    assert invoice.credited == Decimal("3.00") and invoice.paid == Decimal("6.00")
    assert invoice.amount_due == Decimal("3.00")
    assert customer_balance(customer).due == Decimal("3.00")
    assert customer_balance(customer).prepaid == Decimal("0.00")
    assert_ledger_ok()


def test_a_credit_note_cannot_exceed_the_invoice_nor_lack_a_reason(
    make_customer, charge, bill, actor
):
    customer = make_customer()
    charge(customer, "10.00")
    bill()
    invoice = Invoice.objects.get(customer=customer)
    with pytest.raises(ValidationError):
        issue_credit_note(
            invoice,
            actor=actor,
            reason="too much",
            lines=[CreditLine("x", Decimal("10.01"), Decimal("20"))],
        )
    with pytest.raises(ValidationError):
        issue_credit_note(invoice, actor=actor, reason=" ")
    assert not Invoice.objects.filter(kind="credit_note").exists()
