# SPDX-License-Identifier: AGPL-3.0-or-later
"""Collection after issuance: the hook wants work only with an automatic method in the policy."""

from __future__ import annotations

from decimal import Decimal

from encaisse.invoicing import hooks as issuance_hooks
from encaisse.invoicing.models import Invoice
from encaisse.payments import tasks
from encaisse.payments.models import Payment


def test_the_collection_hook_is_registered_and_idle_without_an_automatic_method(settings):
    hook = issuance_hooks.hooks.get("collection")
    settings.ENCAISSE_COLLECTION_POLICY = ["prepaid_balance", "bank_transfer"]
    assert not hook.wanted()


def test_issued_invoices_left_due_are_collected_by_the_automatic_method(
    fake, make_customer, charge, bill, settings, django_capture_on_commit_callbacks
):
    settings.ENCAISSE_COLLECTION_POLICY = ["prepaid_balance", "fake", "bank_transfer"]
    assert issuance_hooks.hooks.get("collection").wanted()
    other, due = make_customer(), make_customer()
    charge(other, "10.00")
    charge(due, "10.00")
    bill()  # both left due; the hook is handed one of them
    invoice = Invoice.objects.get(customer=due)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.CollectionHook().documents_issued([invoice.pk], [invoice.pk])
    payment = Payment.objects.get(invoice=invoice)
    assert (payment.status, payment.amount) == ("succeeded", Decimal("12.00"))
    assert not Payment.objects.filter(customer=other).exists()


def test_collecting_again_starts_nothing_for_a_paid_invoice(
    fake, make_customer, charge, bill, settings, django_capture_on_commit_callbacks
):
    settings.ENCAISSE_COLLECTION_POLICY = ["prepaid_balance", "fake"]
    customer = make_customer()
    charge(customer, "10.00")
    bill()
    invoice = Invoice.objects.get(customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.collect_due_invoices.call([invoice.pk]) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.collect_due_invoices.call([invoice.pk]) == 0
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert [call.operation for call in fake.outbox].count("collect") == 1
