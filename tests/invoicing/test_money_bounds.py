# SPDX-License-Identifier: AGPL-3.0-or-later
"""Bounded money (issue 12, finding 1): every amount has a maximum far below 2^63 cents.

Before, a charge line could reach 10^19 cents: SQLite turned the issuance's sums into floats (a
journal transaction summing to -1 cent, a float revenue balance) and PostgreSQL failed the chunk
with "bigint out of range" on every retry, leaving its other customers uninvoiced. These run on
both engines (the suite's PostgreSQL pass).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from encaisse.core.money import MAX_AMOUNT, MAX_BALANCE, MAX_INVOICE_TOTAL, MAX_STORED
from encaisse.invoicing.exceptions import InvalidAmount, InvoiceTooLarge, LineTooLarge
from encaisse.invoicing.issuance import issue_invoice_now
from encaisse.invoicing.models import BillingRunSetAside, Charge, Invoice
from encaisse.ledger.exceptions import BalanceLimitExceeded
from encaisse.ledger.models import Account, AccountKind, Entry
from encaisse.ledger.selectors import check_ledger, customer_balance

NOVEMBER = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
#: The unit price at which one unit is a line at the maximum (quantity x price).
AT_MAX = {"quantity": "10", "unit_price": str(MAX_AMOUNT / 10)}


def _integers_only() -> None:
    """On SQLite, every money value the ledger and invoices hold is still an integer."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for column, tbl in (
            ("amount", "ledger_entry"),
            ("balance", "ledger_account"),
            ("total_incl_vat", "invoicing_invoice"),
        ):
            cursor.execute(f"SELECT COUNT(*) FROM {tbl} WHERE typeof({column}) <> 'integer'")
            assert cursor.fetchone()[0] == 0, tbl


def test_lines_at_the_maximum_are_invoiced_and_billed_exactly(make_customer, charge, bill):
    """Acceptance 4: many lines at the maximum for one customer, issued and billed: exact."""
    big, small = make_customer(), make_customer()
    lines = int(MAX_INVOICE_TOTAL / (MAX_AMOUNT * Decimal("1.2")))  # 8 at 20 % VAT
    for n in range(lines):
        charge(big, **AT_MAX, external_id=f"max-{n}")
    charge(small, "14.90")

    summary = bill(chunk_size=10)

    invoice = Invoice.objects.get(customer=big)
    assert invoice.total_excl_vat == MAX_AMOUNT * lines
    assert invoice.total_incl_vat == MAX_AMOUNT * lines * Decimal("1.2")
    assert Invoice.objects.get(customer=small).total_incl_vat == Decimal("17.88")
    assert summary.invoices == 2 and not BillingRunSetAside.objects.exists()
    receivable = Account.objects.get(customer=big, kind=AccountKind.RECEIVABLE)
    assert receivable.balance == invoice.total_incl_vat
    revenue = Account.objects.get(kind=AccountKind.REVENUE)
    assert revenue.balance == MAX_AMOUNT * lines + Decimal("14.90")
    assert check_ledger().ok
    _integers_only()


def test_a_charge_above_the_maximum_or_past_the_invoice_maximum_is_refused(make_customer, charge):
    customer = make_customer()
    with translation.override("en"):
        with pytest.raises(LineTooLarge) as above:
            charge(customer, quantity="20", unit_price=str(MAX_AMOUNT / 20 + Decimal("0.01")))
        assert "at most €1,000,000,000.00" in str(above.value)
    # The per-field limits still hold (a quantity of 10^9 at 10^8 € was 10^19 cents).
    with pytest.raises(InvalidAmount):
        charge(customer, quantity="1000000001", unit_price="1")

    lines = int(MAX_INVOICE_TOTAL / (MAX_AMOUNT * Decimal("1.2")))
    for n in range(lines):
        charge(customer, **AT_MAX, external_id=f"max-{n}")
    with translation.override("en"):
        with pytest.raises(InvoiceTooLarge) as past:
            charge(customer, **AT_MAX, external_id="one-too-many")
        assert "€10,000,000,000.00" in str(past.value)
    assert Charge.objects.filter(customer=customer).count() == lines


def test_amounts_with_foreign_digits_or_too_many_digits_are_refused_clearly(make_customer, charge):
    customer = make_customer()
    for price in ("١٢", "１２", "1_000"):
        with pytest.raises(InvalidAmount):
            charge(customer, unit_price=price)
    assert not Charge.objects.exists()


def _raw_charge(customer, amount: Decimal, n: int) -> Charge:
    """A charge written straight to the table, as one from before the bound (or a subscription)."""
    return Charge.objects.create(
        customer=customer,
        description="Dédié",
        quantity=Decimal(1),
        unit_price=amount,
        vat_rate=Decimal(20),
        amount=amount,
        period_start=NOVEMBER[0],
        period_end=NOVEMBER[1],
        external_id=f"raw-{n}",
        actor_kind="system",
        actor_id="tests",
        actor_label="tests",
    )


def test_a_customer_above_the_invoice_maximum_is_set_aside_and_the_chunk_invoiced(
    make_customer, charge, bill, actor
):
    first, huge, last = make_customer(), make_customer(), make_customer()
    charge(first, "9.90")
    for n in range(9):  # 9 x 1.2 x 10^9 € > 10^10 €
        _raw_charge(huge, MAX_AMOUNT, n)
    charge(last, "9.90")

    summary = bill(chunk_size=10)

    assert summary.run.status == "completed"
    assert sorted(Invoice.objects.values_list("customer", flat=True)) == [first.pk, last.pk]
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert [n[-6:] for n in numbers] == ["000001", "000002"]  # no gap for the one set aside
    (aside,) = BillingRunSetAside.objects.all()
    assert (aside.customer, aside.reason) == (huge, "total_too_large")
    assert aside.total == MAX_AMOUNT * 9 * Decimal("1.2")
    assert Charge.objects.filter(customer=huge, invoice__isnull=True).count() == 9
    assert check_ledger().ok

    # Issuing that customer alone is refused with the reason, and changes nothing.
    with pytest.raises(InvoiceTooLarge):
        issue_invoice_now(huge, period_end=NOVEMBER[1], actor=actor)
    assert Invoice.objects.count() == 2


def test_the_database_refuses_a_charge_above_the_maximum(make_customer):
    customer = make_customer()
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_charge(customer, MAX_AMOUNT + Decimal("0.01"), 1)


def test_a_balance_cannot_go_past_its_maximum(make_customer, top_up, monkeypatch):
    from encaisse.ledger import services

    customer = make_customer()
    monkeypatch.setattr(services, "MAX_BALANCE", Decimal("100.00"))
    top_up(customer, "60.00")
    with pytest.raises(BalanceLimitExceeded):
        top_up(customer, "40.01")
    assert customer_balance(customer).prepaid == Decimal("60.00")
    top_up(customer, "40.00")
    assert customer_balance(customer).prepaid == Decimal("100.00")
    assert MAX_BALANCE * 100 < MAX_STORED


def test_ledger_columns_refuse_floats_and_out_of_range_values(make_customer, top_up):
    """The database backstop: no float (SQLite) and nothing past MAX_STORED in money columns."""
    customer = make_customer()
    top_up(customer, "10.00")
    account = Account.objects.get(customer=customer, kind=AccountKind.PREPAID)
    values = [MAX_STORED + 1, -MAX_STORED - 1]
    if connection.vendor == "sqlite":
        values += [1000.5, 9.3e18]
    for value in values:
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE ledger_account SET balance = %s WHERE id = %s", [value, account.pk]
            )
    if connection.vendor == "sqlite":  # arithmetic past 2^63 becomes a float there: refused
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE ledger_account SET balance = balance + 9223372036854775000 WHERE id = %s",
                [account.pk],
            )
    account.refresh_from_db()
    assert account.balance == Decimal("10.00")
    assert Entry.objects.filter(account=account).count() == 1


def test_the_ledger_check_reports_out_of_bounds_amounts_instead_of_crashing(make_customer, top_up):
    """A database from before the constraints: the check names the row instead of summing it
    (PostgreSQL: a CHECK can be dropped there without rebuilding the table)."""
    if connection.vendor != "postgresql":
        pytest.skip("drops a CHECK constraint: PostgreSQL only")
    customer = make_customer()
    top_up(customer, "10.00")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred check pending on the table
        cursor.execute("ALTER TABLE ledger_account DROP CONSTRAINT account_balance_bounded")
        cursor.execute(
            "UPDATE ledger_account SET balance = %s WHERE customer_id = %s AND kind = 'prepaid'",
            [MAX_STORED * 10, customer.pk],
        )
    report = check_ledger()
    account = Account.objects.get(customer=customer, kind=AccountKind.PREPAID)
    assert not report.ok
    assert report.out_of_bounds == [f"account {account.code}"]
