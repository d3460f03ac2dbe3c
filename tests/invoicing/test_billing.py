# SPDX-License-Identifier: AGPL-3.0-or-later
"""The billing run: invoices per customer, VAT per rate, settlement at issuance, resumption."""

import datetime as dt
from decimal import Decimal

import pytest

from encaisse.core.exceptions import ValidationError
from encaisse.customers.models import Customer
from encaisse.invoicing import billing
from encaisse.invoicing.models import BillingRun, Charge, Invoice
from encaisse.ledger.selectors import customer_balance


def test_vat_is_computed_per_rate_on_the_summed_base(make_customer, charge, bill):
    customer = make_customer()
    charge(customer, "0.05", quantity="3")  # 0.15 at 20 %
    charge(customer, "0.10")  # 0.10 at 20 % -> base 0.25, VAT 0.05
    charge(customer, "10.00", vat_rate="5.5")  # VAT 0.55
    bill()
    invoice = Invoice.objects.get(customer=customer)
    assert invoice.vat_breakdown == [
        {"rate": "5.50", "base": "10.00", "vat": "0.55"},
        {"rate": "20.00", "base": "0.25", "vat": "0.05"},
    ]
    assert (invoice.total_excl_vat, invoice.total_vat, invoice.total_incl_vat) == (
        Decimal("10.25"),
        Decimal("0.60"),
        Decimal("10.85"),
    )
    assert invoice.lines.count() == 3


def test_invoice_numbers_follow_one_gapless_series_per_year(make_customer, charge, bill):
    customers = [make_customer() for _ in range(5)]
    for customer in customers:
        charge(customer)
    bill(chunk_size=2)
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    year = dt.date.today().year
    assert numbers == [f"FA{year}-{n:06d}" for n in range(1, 6)]
    assert all(len(number) <= 35 for number in numbers)


def test_the_overdraft_lets_the_balance_go_negative_down_to_the_agreed_limit(
    make_customer, charge, bill
):
    customer = make_customer(overdraft=Decimal("5"))
    charge(customer, "50.00")  # 60.00 incl. VAT
    bill()
    invoice = Invoice.objects.get(customer=customer)
    assert invoice.paid == Decimal("5.00")
    assert customer_balance(customer).prepaid == Decimal("-5.00")
    assert customer_balance(customer).due == Decimal("55.00")


def test_charges_after_the_period_wait_for_the_next_run(make_customer, charge, bill):
    customer = make_customer()
    charge(customer)
    later = charge(customer, period=(dt.date(2026, 12, 1), dt.date(2026, 12, 31)))
    bill("2026-11")
    later.refresh_from_db()
    assert later.invoice_id is None
    bill("2026-12")
    later.refresh_from_db()
    assert later.invoice is not None and later.invoice.billing_run.period_start.month == 12


def test_a_resumed_run_invoices_only_the_chunks_left(
    make_customer, charge, actor, assert_ledger_ok
):
    customers = [make_customer() for _ in range(6)]
    for customer in customers:
        charge(customer)
    run = billing.start_run("2026-11", actor=actor, chunk_size=2)
    billing.process_next_chunk(run, actor=actor)  # then the process "dies"
    assert Invoice.objects.count() == 2
    again = billing.start_run("2026-11", actor=actor, chunk_size=2)
    assert again.pk == run.pk  # the unfinished run is resumed, not restarted
    summary = billing.process_run(again, actor=actor)
    assert summary.invoices == 6 and summary.run.status == "completed"
    assert Invoice.objects.count() == 6
    assert not Charge.objects.filter(invoice__isnull=True).exists()
    assert_ledger_ok()


def test_billing_a_finished_period_again_invoices_nothing_twice(make_customer, charge, bill):
    customer = make_customer()
    charge(customer)
    bill()
    second = bill()
    assert second.invoices == 0
    assert Invoice.objects.filter(customer=customer).count() == 1
    assert BillingRun.objects.count() == 2


@pytest.mark.parametrize("period", ["2026-13", "26-11", "november", ""])
def test_a_malformed_period_is_refused(actor, db, period):
    with pytest.raises(ValidationError):
        billing.start_run(period, actor=actor)
    assert not BillingRun.objects.exists()


def test_subscriptions_generate_one_charge_per_period_and_are_billed(
    make_customer, actor, bill, db
):
    from encaisse.invoicing.models import Plan
    from encaisse.invoicing.subscriptions import subscribe

    plan = Plan.objects.create(
        code="pro",
        name="Pro",
        unit_price=Decimal("14.90"),
        vat_rate=Decimal("20"),
        interval="month",
    )
    customer = make_customer()
    subscribe(customer.pk, plan.pk, start=dt.date(2026, 9, 1))
    bill("2026-11")
    charges = Charge.objects.filter(customer=customer).order_by("period_start")
    assert [c.period_start for c in charges] == [dt.date(2026, m, 1) for m in (9, 10, 11)]
    assert charges[0].period_end == dt.date(2026, 9, 30)
    invoice = Invoice.objects.get(customer=customer)
    assert invoice.total_excl_vat == Decimal("44.70")
    bill("2026-11")  # nothing new: the subscription already advanced
    assert Charge.objects.filter(customer=customer).count() == 3


def test_issue_invoice_now_invoices_one_customer_and_settles(make_customer, charge, top_up, actor):
    from encaisse.invoicing.issuance import issue_invoice_now

    customer, other = make_customer(), make_customer()
    top_up(customer, "100.00")
    charge(customer)
    charge(other)
    invoice = issue_invoice_now(customer, period_end=dt.date(2026, 11, 30), actor=actor)
    assert invoice is not None and invoice.status == "paid"
    assert not Invoice.objects.filter(customer=other).exists()
    assert issue_invoice_now(customer, period_end=dt.date(2026, 11, 30), actor=actor) is None


@pytest.mark.parametrize("rate", ["20", "10", "5.5", "2.1"])
def test_vat_computed_by_the_database_rounds_like_the_money_helper(
    make_customer, charge, bill, rate
):
    from encaisse.core.money import from_cents, to_cents, vat_cents

    # Bases around every half-cent boundary of the rate, and large ones.
    bases = ["0.01", "0.09", "0.10", "0.45", "9.09", "9.90", "12.34", "99.99", "123456.78"]
    customers = {base: make_customer() for base in bases}
    for base, customer in customers.items():
        charge(customer, base, vat_rate=rate)
    bill()
    for base, customer in customers.items():
        (row,) = Invoice.objects.get(customer=customer).vat_breakdown
        expected = from_cents(vat_cents(to_cents(Decimal(base)), Decimal(rate)))
        assert row == {"rate": f"{Decimal(rate):.2f}", "base": base, "vat": str(expected)}


def test_a_customer_without_accounts_is_set_aside_and_the_rest_of_its_chunk_invoiced(
    make_customer, charge, bill
):
    """A customer dropped by the account join is recorded on the run, not skipped silently, and
    the others of its chunk are invoiced with gapless numbers (a failed chunk would fail again on
    every retry and leave them all uninvoiced)."""
    from encaisse.invoicing.models import BillingRunSetAside

    billed = make_customer()
    charge(billed, "10.00")
    orphan = Customer.objects.create(  # created without the service: no ledger accounts
        number="C9999990",
        name="Orphan",
        email="o@example.org",
        kind="company",
        address_line1="1 rue",
        postal_code="75001",
        city="Paris",
    )
    Charge.objects.create(  # the service would refuse it: it locks the customer's account
        customer=orphan,
        description="Hébergement",
        quantity=Decimal(1),
        unit_price=Decimal("5.00"),
        vat_rate=Decimal(20),
        amount=Decimal("5.00"),
        period_start=dt.date(2026, 11, 1),
        period_end=dt.date(2026, 11, 30),
        actor_kind="system",
        actor_id="tests",
        actor_label="tests",
    )

    summary = bill(chunk_size=10)

    assert summary.invoices == 1
    (invoice,) = Invoice.objects.all()
    assert invoice.customer == billed and invoice.number.endswith("000001")
    (aside,) = BillingRunSetAside.objects.all()
    assert (aside.run, aside.customer, aside.reason) == (summary.run, orphan, "no_accounts")
    assert Charge.objects.filter(customer=orphan, invoice__isnull=True).count() == 1
    assert summary.run.status == "completed"
