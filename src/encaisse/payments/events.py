# SPDX-License-Identifier: AGPL-3.0-or-later
"""Provider events: verified, stored, then handled — each step survives a crash of the next.

1. :func:`receive_event` (the webhook view): the provider verifies the signature over the raw
   body (``parse_event``; a forged event raises and nothing is stored), then :func:`store_event`
   keeps it in its own short transaction, once per (provider, event id): a redelivery finds the
   row already there. The view can answer 2xx now.
2. :func:`handle_event` (inline, or a task): re-reads the payment the event names from the
   provider (``fetch``, outside any transaction) and applies that truth (``sync_payment``), then
   marks the row processed in the same transaction as the effect. The effect is idempotent
   (state-guarded transitions, ledger keys), so an event replayed or handled twice, or events
   handled in any order, have one effect.
3. :func:`handle_pending_events` (a periodic job): what a crash, a timeout or an error left
   ``received`` or ``failed`` is handled again, up to :data:`MAX_ATTEMPTS` times; the last error
   stays readable on the row. A handler takes an event for :data:`CLAIM` first, so passes of
   several workers at once do not ask the provider twice; a crashed handler's claim expires.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from encaisse.core.actors import Actor

from . import flows, providers
from .models import EventStatus, InboundEvent, Payment
from .providers.base import PaymentProvider, ProviderEvent
from .sync import sync_payment

logger = logging.getLogger(__name__)

#: A provider retries for days (Stripe 3 days, PayPal 25 times); we retry as often.
MAX_ATTEMPTS = 10
#: How long a handler holds an event: well over a provider call's timeout.
CLAIM = dt.timedelta(minutes=5)
DONE = (EventStatus.PROCESSED, EventStatus.IGNORED)


def receive_event(provider: str, body: bytes, headers: Mapping[str, str]) -> InboundEvent:
    """Verify and store a webhook of ``provider`` (identifier); the stored row, not handled yet.

    Raises ``ForgedEvent`` / ``InvalidEvent`` (nothing stored) and ``LookupError`` for a provider
    not configured."""
    implementation = providers.get(provider)
    event = implementation.parse_event(body, headers)
    row, _created = store_event(implementation, event)
    return row


def store_event(provider: PaymentProvider, event: ProviderEvent) -> tuple[InboundEvent, bool]:
    """Keep ``event`` once per (provider, event id), in its own transaction; whether it is new."""
    with transaction.atomic():
        payment_id = None
        if event.payment_id is not None:
            ours = Payment.objects.filter(pk=event.payment_id, provider=provider.identifier)
            payment_id = ours.values_list("pk", flat=True).first()
        return InboundEvent.objects.get_or_create(
            provider=provider.identifier,
            event_id=event.event_id,
            defaults={
                "event_type": event.event_type[:100],
                "object_ref": event.object_ref[:120],
                "payment_id": payment_id,
                "payload": dict(event.payload),
            },
        )


def _claim(event: InboundEvent) -> InboundEvent | None:
    """Take the event for :data:`CLAIM` and count an attempt, in a short transaction of its
    own (a crash then still counts); ``None`` if it is done, or taken by another handler."""
    now = timezone.now()
    with transaction.atomic():
        row = InboundEvent.objects.select_for_update(skip_locked=True).filter(pk=event.pk).first()
        if row is None or row.status in DONE:
            return None  # being claimed by another handler, or done
        if row.claimed_until is not None and row.claimed_until > now:
            return None
        row.attempts += 1
        row.claimed_until = now + CLAIM
        row.save(update_fields=["attempts", "claimed_until"])
        return row


def _finish(event: InboundEvent, status: EventStatus, *, error: str = "") -> InboundEvent:
    event.status = status
    event.error = error
    event.processed_at = timezone.now() if status in DONE else None
    event.claimed_until = None
    event.save(update_fields=["status", "error", "processed_at", "claimed_until"])
    return event


def _payment_of(event: InboundEvent) -> Payment | None:
    if event.payment_id is not None:
        return Payment.objects.get(pk=event.payment_id)
    if not event.object_ref:
        return None
    return Payment.objects.filter(provider=event.provider, external_ref=event.object_ref).first()


def handle_event(event: InboundEvent) -> InboundEvent:
    """Apply a stored event once: fetch the truth about its payment and sync to it.

    An event about no payment of ours (another application's, a type we do not use) ends
    ``ignored``; an error ends ``failed`` with its text, for :func:`handle_pending_events`."""
    flows.ensure_no_transaction()
    row = _claim(event)
    if row is None:
        return InboundEvent.objects.get(pk=event.pk)
    payment = _payment_of(row)
    if payment is None:
        why = f"No payment with reference “{row.object_ref}”." if row.object_ref else ""
        return _finish(row, EventStatus.IGNORED, error=why)
    try:
        provider = providers.get(row.provider)
        truth = provider.fetch(payment)  # the network, outside any transaction
        with transaction.atomic():
            sync_payment(payment, truth, actor=Actor.system(f"{row.provider} events"))
            return _finish(row, EventStatus.PROCESSED)
    except Exception as exc:  # kept on the row and retried by the worker, never lost
        logger.exception("Handling %s event %s failed", row.provider, row.event_id)
        return _finish(row, EventStatus.FAILED, error=f"{type(exc).__name__}: {exc}")


def handle_pending_events(*, limit: int = 500) -> int:
    """Handle events left received or failed (oldest first); how many were handled now.

    The periodic job of the worker: after a crash between storing and handling, a provider that
    did not answer, an error (a row ``failed`` :data:`MAX_ATTEMPTS` times stays for staff)."""
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=timezone.now())
    pending = InboundEvent.objects.filter(
        free, status__in=(EventStatus.RECEIVED, EventStatus.FAILED), attempts__lt=MAX_ATTEMPTS
    ).order_by("received_at", "pk")[:limit]
    handled = 0
    for event in list(pending):
        handled += handle_event(event).status in DONE
    return handled
