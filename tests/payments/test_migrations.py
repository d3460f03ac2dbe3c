# SPDX-License-Identifier: AGPL-3.0-or-later
"""Payments of the former table (an invoice each, a ``method``) stay valid after migrating."""

from __future__ import annotations

from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from encaisse.invoicing.models import Invoice
from encaisse.payments.models import Payment

BEFORE = [("payments", "0001_initial")]
backfill = import_module("encaisse.payments.migrations.0003_payment_top_up_backfill")


def test_a_payment_confirmed_before_is_linked_to_the_top_up_that_credited_it(make_customer, top_up):
    customer = make_customer()
    payment = Payment.objects.create(
        customer=customer, provider="card", amount=Decimal("12.00"), status="succeeded"
    )
    other = Payment.objects.create(
        customer=customer, provider="sepa", amount=Decimal("3.00"), status="succeeded"
    )
    card = top_up(customer, "12.00", method="card", reference=f"payment:{payment.pk}")
    sepa = top_up(customer, "3.00", method="other", reference=f"payment:{other.pk}")

    backfill.link_top_ups(apps, None)

    assert Payment.objects.get(pk=payment.pk).top_up == card
    assert Payment.objects.get(pk=other.pk).top_up == sepa  # then booked as "other"


@pytest.mark.postgres
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="SQLite cannot flush the append-only ledger after a transactional test",
)
@pytest.mark.django_db(transaction=True)
def test_former_payments_keep_their_invoice_method_state_and_credit(
    make_customer, charge, bill, top_up
):
    customer = make_customer()
    charge(customer, "10.00")
    bill()
    invoice = Invoice.objects.get(customer=customer)
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("payments")
    executor.migrate(BEFORE)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        former = old.get_model("payments", "Payment")
        done = former.objects.create(
            invoice_id=invoice.pk,
            customer_id=customer.pk,
            method="card",
            amount=Decimal("12.00"),
            status="succeeded",
        )
        # How the former confirm_payment credited it.
        credit = top_up(customer, "12.00", method="card", reference=f"payment:{done.pk}")
        former.objects.create(
            invoice_id=invoice.pk,
            customer_id=customer.pk,
            method="sepa",
            amount=Decimal("12.00"),
            external_ref="ref-1",
        )
    finally:
        MigrationExecutor(connection).migrate(latest)

    succeeded = Payment.objects.get(pk=done.pk)
    assert (succeeded.provider, succeeded.status, succeeded.invoice_id) == (
        "card",
        "succeeded",
        invoice.pk,
    )
    assert succeeded.top_up_id == credit.pk and succeeded.refunded_amount == 0
    pending = Payment.objects.get(status="pending")
    assert (pending.provider, pending.external_ref, pending.currency) == ("sepa", "ref-1", "EUR")
