# SPDX-License-Identifier: AGPL-3.0-or-later
"""The collection policy: balance first, then an automatic debit, at most one in flight."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from encaisse.invoicing.models import Invoice
from encaisse.payments.collection import CollectionMethod, collect_invoice, registry
from encaisse.payments.models import Payment
from encaisse.payments.transitions import fail_payment, open_payment, succeed_payment


class FakeAutoDebit(CollectionMethod):
    """Stands for a card or SEPA mandate: starts a payment for what is due."""

    identifier = "fake_auto_debit"
    verbose_name = "Fake automatic debit"
    collects_without_customer = True

    def collect(self, invoice, *, actor):
        return open_payment(
            invoice.customer,
            provider=self.identifier,
            amount=invoice.amount_due,
            actor=actor,
            invoice=invoice,
        )


@pytest.fixture
def auto_debit(settings):
    registry.register(FakeAutoDebit())
    settings.ENCAISSE_COLLECTION_POLICY = ["prepaid_balance", "fake_auto_debit", "bank_transfer"]
    yield
    registry.unregister("fake_auto_debit")


def test_policy_uses_the_balance_then_starts_one_automatic_debit(
    make_customer, charge, top_up, bill, actor, auto_debit, django_capture_on_commit_callbacks
):
    customer = make_customer()
    top_up(customer, "2.00")
    charge(customer, "10.00")
    with django_capture_on_commit_callbacks(execute=True):
        bill()  # applies 2.00, then enqueues the collection of the rest (immediate backend)
    invoice = Invoice.objects.get(customer=customer)
    payment = Payment.objects.get(invoice=invoice)
    assert payment.status == "pending" and payment.amount == Decimal("10.00")
    assert collect_invoice(invoice, actor=actor) == payment  # still the only one in flight
    assert Payment.objects.filter(invoice=invoice).count() == 1

    succeed_payment(payment, actor=actor)
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    succeed_payment(payment, actor=actor)  # a replayed confirmation changes nothing
    invoice.refresh_from_db()
    assert invoice.paid == Decimal("12.00")


def test_a_failed_debit_leaves_the_invoice_due_and_allows_a_new_attempt(
    make_customer, charge, bill, actor, auto_debit, django_capture_on_commit_callbacks
):
    customer = make_customer()
    charge(customer, "10.00")
    with django_capture_on_commit_callbacks(execute=True):
        bill()
    invoice = Invoice.objects.get(customer=customer)
    first = Payment.objects.get(invoice=invoice)
    fail_payment(first, actor=actor, reason="card declined")
    invoice.refresh_from_db()
    assert invoice.status == "open"
    second = collect_invoice(invoice, actor=actor)
    assert second is not None and second.pk != first.pk


def test_the_database_refuses_a_second_collection_in_flight(make_customer, charge, bill, db):
    customer = make_customer()
    charge(customer)
    bill()
    invoice = Invoice.objects.get(customer=customer)
    Payment.objects.create(invoice=invoice, customer=customer, provider="x", amount=Decimal(1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            invoice=invoice,
            customer=customer,
            provider="y",
            amount=Decimal(1),
            status="requires_action",  # waiting for the customer is in flight too
        )


def test_without_automatic_debit_nothing_is_started(make_customer, charge, bill, actor):
    customer = make_customer()
    charge(customer)
    bill()
    invoice = Invoice.objects.get(customer=customer)
    assert collect_invoice(invoice, actor=actor) is None
    assert not Payment.objects.exists()
