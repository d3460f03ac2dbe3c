# SPDX-License-Identifier: AGPL-3.0-or-later
"""What an outbox row says: its message rendered from its cause, in the customer's language.

Rendered when the row is sent (:mod:`.outbox`), outside any transaction: the reads here take no
lock. A row is rendered again on each attempt, so a retried e-mail says what is true when it
leaves (the balance after a top-up, what is left to pay on an invoice).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from encaisse.customers.models import Customer
from encaisse.customers.seller import current_seller
from encaisse.invoicing.models import Invoice, InvoiceKind
from encaisse.invoicing.selectors import forecast, recurring_monthly_cost
from encaisse.ledger.models import LedgerTransaction
from encaisse.ledger.selectors import customer_balance

from .models import Notification, NotificationKind


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def panel_url(name: str, **kwargs: Any) -> str:
    """An absolute link into the customer panel (``ENCAISSE_PUBLIC_URL``)."""
    return str(settings.ENCAISSE_PUBLIC_URL).rstrip("/") + reverse(name, kwargs=kwargs or None)


def top_up_amount(top_up: LedgerTransaction, customer: Customer) -> Decimal:
    """What a top-up credited to the customer's accounts (credits are negative entries)."""
    return -sum(
        (e.amount for e in top_up.entries.all() if e.account.customer_id == customer.pk),
        start=Decimal(0),
    )


def _invoice_issued(note: Notification, customer: Customer) -> dict[str, Any] | None:
    invoice = Invoice.objects.get(pk=note.cause_id, customer=customer)
    return {
        "invoice": invoice,
        "is_credit_note": invoice.kind == InvoiceKind.CREDIT_NOTE,
        "url": panel_url("panel:invoice", pk=invoice.pk),
    }


def _payment_received(note: Notification, customer: Customer) -> dict[str, Any] | None:
    top_up = LedgerTransaction.objects.prefetch_related("entries__account").get(
        pk=note.cause_id, customer=customer
    )
    return {
        "amount": top_up_amount(top_up, customer),
        "at": top_up.created_at,
        "balance": customer_balance(customer),
        "url": panel_url("panel:movements"),
    }


def _balance_low(note: Notification, customer: Customer) -> dict[str, Any] | None:
    """None once the balance is no longer low (topped up since): the warning is dropped."""
    balance = customer_balance(customer)
    outlook = forecast(balance.available, recurring_monthly_cost(customer))
    if not outlook.low:
        return None
    return {"balance": balance, "forecast": outlook, "url": panel_url("panel:payment_methods")}


CONTEXTS: dict[str, Callable[[Notification, Customer], dict[str, Any] | None]] = {
    NotificationKind.INVOICE_ISSUED: _invoice_issued,
    NotificationKind.PAYMENT_RECEIVED: _payment_received,
    NotificationKind.BALANCE_LOW: _balance_low,
}


def render(note: Notification) -> Message | None:
    """The subject and body of ``note`` in its customer's language; None if nothing is left to
    say. Templates: ``notifications/<kind>_subject.txt`` and ``notifications/<kind>.txt``."""
    customer = note.customer
    with translation.override(customer.language):
        context = CONTEXTS[note.kind](note, customer)
        if context is None:
            return None
        context |= {"customer": customer, "seller": current_seller()}
        subject = render_to_string(f"notifications/{note.kind}_subject.txt", context).strip()
        body = render_to_string(f"notifications/{note.kind}.txt", context)
    return Message(subject=subject, body=body)
