# SPDX-License-Identifier: AGPL-3.0-or-later
"""The life of a payment: one audited service per transition of its state machine.

::

    pending          → requires_action, succeeded, failed, cancelled
    requires_action  → pending, succeeded, failed, cancelled
    failed           → succeeded            (a late success)
    succeeded        → refunded, disputed   (refunded: all of it went back)
    disputed         → succeeded, refunded  (the dispute won, or lost)
    cancelled, refunded: final

Money moves on two kinds of transition only, through ``payments.services`` and the ledger:
**succeeded** credits the prepaid balance (which settles the invoice of a collection), and what
goes back — a refund, full or partial (:attr:`Payment.refunded_amount`), or a **lost dispute** —
is reversed (``reverse_top_up``: it never fails, the receivable takes what the balance cannot
give back). An open dispute moves nothing (its outcome is not known yet), nor does a won one.

Each service locks the payment row, checks the source state against :data:`ALLOWED`
(:class:`InvalidTransition` otherwise), and writes one ``core.AuditLog`` row named
``encaisse.payment.<new state>`` (``encaisse.payment.partially_refunded`` for a refund that leaves
the payment succeeded). Asking for the state a payment is already in changes nothing
(a replayed webhook), so every service here is idempotent. A payment that failed may still
succeed (``failed → succeeded``): providers report late successes (a retried capture, an
asynchronous method), and money the provider holds is always credited.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.exceptions import ValidationError
from encaisse.customers.models import Customer
from encaisse.invoicing.models import Invoice

from . import services
from .exceptions import InvalidTransition, RefundRefused
from .models import Payment, PaymentStatus, SavedCard

S = PaymentStatus

#: Allowed transitions, from each state to the states it may become.
ALLOWED: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    S.PENDING: frozenset({S.REQUIRES_ACTION, S.SUCCEEDED, S.FAILED, S.CANCELLED}),
    S.REQUIRES_ACTION: frozenset({S.PENDING, S.SUCCEEDED, S.FAILED, S.CANCELLED}),
    S.FAILED: frozenset({S.SUCCEEDED}),
    S.SUCCEEDED: frozenset({S.REFUNDED, S.DISPUTED}),
    S.DISPUTED: frozenset({S.SUCCEEDED, S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}


def _lock(payment: Payment) -> Payment:
    return (
        Payment.objects.select_related("customer", "invoice")
        .select_for_update(of=("self",))
        .get(pk=payment.pk)
    )


def _move(
    payment: Payment,
    target: PaymentStatus,
    *,
    sources: frozenset[PaymentStatus] | None = None,
    actor: Actor,
    reason: str = "",
    **payload: Any,
) -> tuple[Payment, bool]:
    """Lock ``payment`` and move it to ``target``; whether it moved (False: already there).

    ``sources`` narrows :data:`ALLOWED` for a service (``disputed → succeeded`` is a won
    dispute, not a payment to credit). Call inside a transaction."""
    locked = _lock(payment)
    current = PaymentStatus(locked.status)
    if current == target:
        return locked, False
    allowed = target in ALLOWED[current] and (sources is None or current in sources)
    if not allowed:
        raise InvalidTransition(state=current.label, target=target.label)
    locked.status = target
    # Why it is stuck or over, as the provider put it; cleared once it moves on.
    locked.failure_reason = reason if target in (S.FAILED, S.CANCELLED, S.REQUIRES_ACTION) else ""
    locked.save(update_fields=["status", "failure_reason", "updated_at"])
    audit.record(
        f"encaisse.payment.{target}",
        actor=actor,
        obj=locked,
        reason=reason,
        previous=current.value,
        amount=str(locked.amount),
        provider=locked.provider,
        **payload,
    )
    return locked, True


def open_payment(
    customer: Customer,
    *,
    provider: str,
    amount: Decimal,
    actor: Actor,
    invoice: Invoice | None = None,
    external_ref: str = "",
    card: SavedCard | None = None,
) -> Payment:
    """Create a pending payment: a top-up, or the collection of ``invoice``. Moves no money.

    A second collection of an invoice while one is in flight is refused by the database (the
    partial unique constraint): the caller (the collection policy) looks for it first."""
    value = services.clean_amount(amount)
    if invoice is not None and invoice.customer_id != customer.pk:
        raise ValidationError(_("An invoice is collected from its own customer only."))
    if card is not None and (card.customer_id != customer.pk or card.provider != provider):
        raise ValidationError(_("A card pays for its own customer, with its own provider only."))
    with transaction.atomic():
        payment = Payment.objects.create(
            customer=customer,
            invoice=invoice,
            provider=provider,
            amount=value,
            currency=settings.ENCAISSE_CURRENCY,
            external_ref=external_ref,
            card=card,
        )
        audit.record(
            "encaisse.payment.pending",
            actor=actor,
            obj=payment,
            amount=str(value),
            provider=provider,
            invoice=invoice.number if invoice is not None else None,
        )
    return payment


def set_reference(payment: Payment, *, external_ref: str) -> Payment:
    """Remember the provider's reference of a payment (once: it never changes afterwards)."""
    with transaction.atomic():
        locked = _lock(payment)
        if locked.external_ref == external_ref:
            return locked
        if locked.external_ref:
            raise ValidationError(
                _("Payment %(id)s already has the provider reference %(ref)s."),
                id=locked.pk,
                ref=locked.external_ref,
            )
        locked.external_ref = services.clean_reference(external_ref)
        locked.save(update_fields=["external_ref", "updated_at"])
    return locked


def require_action(payment: Payment, *, actor: Actor, reason: str = "") -> Payment:
    """The provider waits for the customer (3-D Secure, approval): the invoice stays due."""
    with transaction.atomic():
        return _move(payment, S.REQUIRES_ACTION, actor=actor, reason=reason)[0]


def resume_payment(payment: Payment, *, actor: Actor) -> Payment:
    """The customer did what was asked; the provider is processing the payment again."""
    with transaction.atomic():
        return _move(payment, S.PENDING, actor=actor)[0]


def succeed_payment(payment: Payment, *, actor: Actor) -> Payment:
    """The provider has the money: credit the prepaid balance once (settles the invoice)."""
    sources = frozenset({S.PENDING, S.REQUIRES_ACTION, S.FAILED})
    with transaction.atomic():
        locked, moved = _move(payment, S.SUCCEEDED, sources=sources, actor=actor)
        if moved:
            top_up, _created = services.credit_payment(locked, actor=actor)
            locked.top_up = top_up
            locked.save(update_fields=["top_up", "updated_at"])
    return locked


def fail_payment(payment: Payment, *, actor: Actor, reason: str) -> Payment:
    """The payment failed (declined, expired): nothing was credited; the invoice stays due."""
    with transaction.atomic():
        return _move(payment, S.FAILED, actor=actor, reason=reason)[0]


def cancel_payment(payment: Payment, *, actor: Actor, reason: str) -> Payment:
    """Given up before completion (abandoned by the customer, cancelled at the provider)."""
    with transaction.atomic():
        return _move(payment, S.CANCELLED, actor=actor, reason=reason)[0]


def _give_back(
    locked: Payment, amount: Decimal, *, reference: str, actor: Actor, reason: str
) -> None:
    """Reverse ``amount`` of the payment's top-up and count it as refunded (caller holds the
    lock). The whole payment at once is the top-up's one mirror transaction; parts are keyed
    by the provider's refund or dispute reference."""
    if locked.top_up is None:
        raise RefundRefused(why=_("this payment never credited the balance."))
    whole = locked.refunded_amount == 0 and amount == locked.amount
    services.reverse_top_up(
        locked.top_up,
        actor=actor,
        reason=reason,
        amount=None if whole else amount,
        reference=reference,
    )
    locked.refunded_amount += amount
    locked.save(update_fields=["refunded_amount", "updated_at"])


def refund_payment(
    payment: Payment, *, amount: Decimal, reference: str, actor: Actor, reason: str
) -> Payment:
    """The provider gave ``amount`` back to the payer (its refund ``reference``): reverse it.

    Partial refunds keep the payment succeeded; it becomes refunded once all of it went back.
    Booked once per ``reference``: a replayed refund changes nothing."""
    reference = services.clean_reference(reference)
    with transaction.atomic():
        locked = _lock(payment)
        if locked.status == S.REFUNDED:
            return locked
        if locked.top_up is not None and services.refund_booked(locked.top_up, reference):
            return locked
        if locked.status != S.SUCCEEDED:
            raise InvalidTransition(state=locked.get_status_display(), target=S.REFUNDED.label)
        if not 0 < amount <= locked.amount - locked.refunded_amount:
            raise RefundRefused(why=_("more than what is left of the payment."))
        _give_back(locked, amount, reference=reference, actor=actor, reason=reason)
        if locked.refunded_amount < locked.amount:
            audit.record(
                "encaisse.payment.partially_refunded",
                actor=actor,
                obj=locked,
                reason=reason,
                amount=str(amount),
                refunded=str(locked.refunded_amount),
                reference=reference,
            )
            return locked
        return _move(locked, S.REFUNDED, actor=actor, reason=reason, reference=reference)[0]


def dispute_payment(payment: Payment, *, actor: Actor, reason: str = "") -> Payment:
    """The payer's bank opened a dispute (chargeback). Nothing moves until it is decided."""
    with transaction.atomic():
        return _move(payment, S.DISPUTED, actor=actor, reason=reason)[0]


def win_dispute(payment: Payment, *, actor: Actor, reason: str = "") -> Payment:
    """The dispute was decided for us: the payment stands, nothing moves."""
    sources = frozenset({S.DISPUTED})
    with transaction.atomic():
        return _move(payment, S.SUCCEEDED, sources=sources, actor=actor, reason=reason)[0]


def lose_dispute(payment: Payment, *, reference: str, actor: Actor, reason: str = "") -> Payment:
    """The dispute was lost: what was not refunded yet goes back (a chargeback); the payment
    ends refunded. ``reference`` is the provider's dispute id."""
    reference = services.clean_reference(reference)
    with transaction.atomic():
        locked = _lock(payment)
        if locked.status == S.REFUNDED:
            return locked
        if locked.status != S.DISPUTED:
            raise InvalidTransition(state=locked.get_status_display(), target=S.REFUNDED.label)
        why = reason or "Dispute lost"
        left = locked.amount - locked.refunded_amount
        _give_back(locked, left, reference=reference, actor=actor, reason=why)
        return _move(locked, S.REFUNDED, actor=actor, reason=why, dispute=reference)[0]
