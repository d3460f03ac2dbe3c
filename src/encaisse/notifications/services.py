# SPDX-License-Identifier: AGPL-3.0-or-later
"""Sending the customer e-mails: rendered in the customer's language, each sent once.

Called from background tasks only (never inside a money transaction): a slow or failing mail
server must not hold row locks of the ledger nor roll a payment back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from encaisse.customers.models import Customer
from encaisse.invoicing.models import Invoice, InvoiceKind
from encaisse.invoicing.selectors import forecast, recurring_monthly_cost
from encaisse.ledger.models import LedgerTransaction, TransactionKind
from encaisse.ledger.selectors import customer_balance

from .models import Notification, NotificationKind


def panel_url(name: str, **kwargs: Any) -> str:
    return str(settings.ENCAISSE_PUBLIC_URL).rstrip("/") + reverse(name, kwargs=kwargs or None)


def send(customer: Customer, kind: NotificationKind, key: str, context: dict[str, Any]) -> bool:
    """Render and send ``kind`` once for ``key``; False if it was already sent."""
    Notification.objects.get_or_create(
        key=key, defaults={"kind": kind, "customer": customer, "recipient": customer.email}
    )
    with transaction.atomic():
        note = Notification.objects.select_for_update().get(key=key)
        if note.sent_at is not None:
            return False
        with translation.override(customer.language):
            context = {**context, "customer": customer, "seller": settings.ENCAISSE_SELLER}
            subject = render_to_string(f"notifications/{kind}_subject.txt", context).strip()
            body = render_to_string(f"notifications/{kind}.txt", context)
        EmailMessage(subject, body, to=[note.recipient]).send()
        note.subject, note.sent_at = subject[:200], timezone.now()
        note.save(update_fields=["subject", "sent_at"])
    return True


def notify_invoice_issued(invoice: Invoice) -> bool:
    customer = invoice.customer
    context = {
        "invoice": invoice,
        "is_credit_note": invoice.kind == InvoiceKind.CREDIT_NOTE,
        "url": panel_url("panel:invoice", pk=invoice.pk),
    }
    return send(customer, NotificationKind.INVOICE_ISSUED, f"invoice_issued:{invoice.pk}", context)


def notify_payment_received(top_up: LedgerTransaction) -> bool:
    if top_up.kind != TransactionKind.TOP_UP or top_up.customer is None:
        return False
    customer = top_up.customer
    amount = -sum(
        (e.amount for e in top_up.entries.all() if e.account.customer_id == customer.pk),
        start=0,
    )
    context = {
        "amount": amount,
        "at": top_up.created_at,
        "balance": customer_balance(customer),
        "url": panel_url("panel:movements"),
    }
    key = f"payment_received:{top_up.pk}"
    return send(customer, NotificationKind.PAYMENT_RECEIVED, key, context)


def notify_if_balance_low(customer: Customer, today: dt.date | None = None) -> bool:
    """Warn once a month at most when the balance covers too few days of recurring charges."""
    balance = customer_balance(customer)
    outlook = forecast(balance.available, recurring_monthly_cost(customer))
    if not outlook.low:
        return False
    month = (today or timezone.localdate()).strftime("%Y-%m")
    context = {
        "balance": balance,
        "forecast": outlook,
        "url": panel_url("panel:payment_methods"),
    }
    key = f"balance_low:{customer.pk}:{month}"
    return send(customer, NotificationKind.BALANCE_LOW, key, context)
