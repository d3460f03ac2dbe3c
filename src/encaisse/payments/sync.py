# SPDX-License-Identifier: AGPL-3.0-or-later
"""Bringing a payment to the provider's truth, one allowed transition at a time.

Webhooks arrive late, twice and out of order; a provider's answer may be lost. So nothing acts on
an event's content: the handler re-reads the payment from the provider
(:meth:`PaymentProvider.fetch`, cards-and-paypal.md §2.3, pretix's ``ReferencedStripeObject``)
and :func:`sync_payment` moves our payment towards what it says through the services of
:mod:`.transitions`, which refuse what the state machine does not allow and do nothing when the
payment is already there. The same truth applied twice, or an older truth after a newer one,
has one effect.
"""

from __future__ import annotations

from django.db import transaction

from encaisse.core.actors import Actor

from . import transitions
from .exceptions import ProviderMismatch
from .models import IN_FLIGHT, Payment, PaymentStatus
from .providers.base import DisputeStatus, ProviderPayment, RefundStatus

S = PaymentStatus


def sync_payment(payment: Payment, truth: ProviderPayment | None, *, actor: Actor) -> Payment:
    """Apply ``truth`` (``None``: the provider knows nothing yet, nothing changes); the payment.

    One database transaction: the charge's state, then refunds, then the dispute. Raises
    ``ProviderMismatch`` when the provider's payment is not ours (amount, currency, reference):
    nothing is credited then. No network here: the caller fetched ``truth`` beforehand."""
    if truth is None:
        return payment
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        _check_matches(payment, truth)
        if truth.reference and not payment.external_ref:
            payment = transitions.set_reference(payment, external_ref=truth.reference)
        payment = _apply_charge(payment, truth, actor=actor)
        if payment.status == S.SUCCEEDED:
            payment = _apply_refunds(payment, truth, actor=actor)
        payment = _apply_dispute(payment, truth, actor=actor)
    return payment


def _check_matches(payment: Payment, truth: ProviderPayment) -> None:
    same_ref = not payment.external_ref or not truth.reference
    if (
        truth.amount != payment.amount
        or truth.currency.upper() != payment.currency
        or not (same_ref or truth.reference == payment.external_ref)
    ):
        raise ProviderMismatch(reference=truth.reference, payment=payment.pk)


def _apply_charge(payment: Payment, truth: ProviderPayment, *, actor: Actor) -> Payment:
    current, target = PaymentStatus(payment.status), truth.status
    late_success = current == S.FAILED and target == S.SUCCEEDED  # the money is there: credit it
    if current == target or not (current in IN_FLIGHT or late_success):
        return payment  # there already, or settled: an older truth read before this one
    reason = truth.failure_reason
    match target:
        case S.SUCCEEDED:
            payment = transitions.succeed_payment(payment, actor=actor)
        case S.REQUIRES_ACTION:
            payment = transitions.require_action(payment, actor=actor, reason=reason)
        case S.PENDING:
            payment = transitions.resume_payment(payment, actor=actor)
        case S.FAILED:
            payment = transitions.fail_payment(payment, actor=actor, reason=reason or "declined")
        case S.CANCELLED:
            payment = transitions.cancel_payment(payment, actor=actor, reason=reason or "cancelled")
    return payment


def _apply_refunds(payment: Payment, truth: ProviderPayment, *, actor: Actor) -> Payment:
    for refund in truth.refunds:
        if refund.status == RefundStatus.SUCCEEDED:
            payment = transitions.refund_payment(
                payment,
                amount=refund.amount,
                reference=refund.reference,
                actor=actor,
                reason="Refunded at the provider",
            )
    return payment


def _apply_dispute(payment: Payment, truth: ProviderPayment, *, actor: Actor) -> Payment:
    dispute = truth.dispute
    if dispute is None:
        return payment
    opened = payment.status == S.SUCCEEDED
    if opened and dispute.status in (DisputeStatus.OPEN, DisputeStatus.LOST):
        payment = transitions.dispute_payment(payment, actor=actor, reason=dispute.reference)
    if payment.status != S.DISPUTED:
        return payment
    if dispute.status == DisputeStatus.WON:
        return transitions.win_dispute(payment, actor=actor, reason=dispute.reference)
    if dispute.status == DisputeStatus.LOST:
        return transitions.lose_dispute(payment, reference=dispute.reference, actor=actor)
    return payment
