# SPDX-License-Identifier: AGPL-3.0-or-later
from decimal import Decimal

from encaisse.invoicing.models import Invoice


def test_billing_run_debits_the_prepaid_balance_and_leaves_the_rest_due(
    make_customer, charge, top_up, bill, assert_ledger_ok
):
    rich, poor = make_customer(), make_customer()
    charge(rich)
    charge(poor)
    top_up(rich, "50.00")
    top_up(poor, "5.00")

    summary = bill()

    assert summary.invoices == 2
    rich_invoice = Invoice.objects.get(customer=rich)
    poor_invoice = Invoice.objects.get(customer=poor)
    assert rich_invoice.total_incl_vat == Decimal("11.88")
    assert rich_invoice.status == "paid"
    assert poor_invoice.paid == Decimal("5.00")
    assert poor_invoice.amount_due == Decimal("6.88")
    assert_ledger_ok()
