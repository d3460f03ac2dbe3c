# SPDX-License-Identifier: AGPL-3.0-or-later
"""Back-office fixtures: a superuser's client and a small set of books to look at."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from encaisse.core import audit
from encaisse.customers.services import create_panel_login
from encaisse.invoicing.models import Invoice, Plan
from encaisse.invoicing.subscriptions import subscribe
from encaisse.notifications.services import queue_document_emails
from encaisse.payments.models import InboundEvent, Payment


@dataclass
class Books:
    customer: Any
    invoice: Any
    payment: Any


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def books(make_customer, charge, top_up, bill, actor) -> Books:
    """One customer billed with a part left due, a subscription and a payment in flight."""
    customer = make_customer(name="Atelier Numérique", siret="73282932000074")
    charge(customer, "14.90")
    top_up(customer, "5.00")
    bill()
    invoice = Invoice.objects.get(customer=customer)
    plan = Plan.objects.create(
        code="pro", name="Pro", unit_price=Decimal("14.90"), vat_rate=Decimal(20), interval="month"
    )
    subscribe(customer.pk, plan.pk, start=dt.date(2026, 12, 1))
    # A collection in flight, as a provider (here the fake one) would leave it.
    payment = Payment.objects.create(
        invoice=invoice, customer=customer, provider="fake", amount=invoice.amount_due
    )
    # A provider's event about it, stored as received, and the customer's e-mail of the invoice.
    InboundEvent.objects.create(
        provider="fake", event_id="evt_1", event_type="payment.pending", payment=payment, payload={}
    )
    queue_document_emails([invoice])
    audit.record("encaisse.tests.fixture", actor=actor, obj=customer)
    create_panel_login(customer, "compta@atelier.example", actor=actor)
    return Books(customer, invoice, payment)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The default PBKDF2 costs half a second per staff user created; tests need no strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
