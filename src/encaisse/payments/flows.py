# SPDX-License-Identifier: AGPL-3.0-or-later
"""The steps that talk to a provider, each outside any database transaction.

No network call inside a transaction (architecture, "Side effects"): each step here first
commits what we know (a pending payment, the claim of a collection), then asks the provider, then
applies its answer in a new transaction through :func:`~.sync.sync_payment`. A crash between two
steps leaves a payment in flight that :func:`refresh_payment` (the janitor's unit of work) or the
provider's next event settles.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext_lazy as _

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.exceptions import ValidationError
from encaisse.core.formatting import Formatter
from encaisse.customers.models import Customer

from . import cards, providers, services, transitions
from .exceptions import CardRefused, InvalidTransition, RefundRefused
from .models import IN_FLIGHT, Payment, PaymentStatus, SavedCard
from .providers.base import ActionKind, NextAction, RefundStatus, StartedCardSetup, StartedTopUp
from .sync import sync_payment


def ensure_no_transaction() -> None:
    """Refuse to call a provider while a database transaction is open (the rule above).

    The atomic blocks a test case opens around each test do not count: Django's own check of
    ``atomic(durable=True)`` makes the same exception."""
    if any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
        raise RuntimeError("a payment provider is called outside database transactions only")


def start_top_up(
    customer: Customer, *, provider: str, amount: object, actor: Actor
) -> StartedTopUp:
    """The customer asks to top up ``amount`` with ``provider``: a pending payment, and what the
    customer must do next. Nothing is credited until the provider confirms."""
    implementation = providers.get(provider)
    if not implementation.is_available(customer):
        raise ValidationError(_("This payment method is not available for this account."))
    value = services.clean_amount(amount)
    low, high = settings.ENCAISSE_TOP_UP_MIN, settings.ENCAISSE_TOP_UP_MAX
    if not low <= value <= high:
        raise ValidationError(
            _("An online top-up is between %(min)s and %(max)s."),
            min=Formatter.active().money(low),
            max=Formatter.active().money(high),
        )
    ensure_no_transaction()
    return implementation.start_top_up(customer, value, actor=actor)


def run_collection(payment: Payment, *, actor: Actor) -> Payment:
    """Ask the provider to collect a claimed payment off-session, then apply its answer.

    Runs in the worker after the claim committed. Safe to run again: a payment no longer in
    flight is left alone, and one the provider already knows is re-read instead of charged."""
    payment.refresh_from_db()
    if payment.status not in IN_FLIGHT:
        return payment
    ensure_no_transaction()
    implementation = providers.get(payment.provider)
    truth = implementation.fetch(payment) if payment.external_ref else None
    if truth is None:
        truth = implementation.collect(payment)
    return sync_payment(payment, truth, actor=actor)


def refresh_payment(payment: Payment, *, actor: Actor) -> Payment:
    """Re-read a payment from its provider and apply what it says (the janitor's unit)."""
    ensure_no_transaction()
    truth = providers.get(payment.provider).fetch(payment)
    return sync_payment(payment, truth, actor=actor)


def request_refund(payment: Payment, *, amount: Decimal, reason: str, actor: Actor) -> Payment:
    """Staff gives ``amount`` of a succeeded payment back: ask the provider, book what it did.

    A refund the provider completes later is booked by its event. Audited as
    ``encaisse.payment.refund_requested`` before the provider is asked."""
    implementation = providers.get(payment.provider)
    payment.refresh_from_db()
    _check_refund(payment, amount, reason, supported=implementation.supports_refunds)
    audit.record(
        "encaisse.payment.refund_requested",
        actor=actor,
        obj=payment,
        reason=reason,
        amount=str(amount),
    )
    ensure_no_transaction()
    refund = implementation.refund(payment, amount, reason)
    if refund.status == RefundStatus.FAILED:
        raise RefundRefused(why=_("the payment provider refused it."))
    if refund.status == RefundStatus.PENDING:
        return payment
    return transitions.refund_payment(
        payment, amount=refund.amount, reference=refund.reference, actor=actor, reason=reason
    )


def _check_refund(payment: Payment, amount: Decimal, reason: str, *, supported: bool) -> None:
    if not supported:
        raise RefundRefused(why=_("this payment provider does not refund."))
    if payment.status != PaymentStatus.SUCCEEDED:
        raise RefundRefused(why=_("only a payment that succeeded can be refunded."))
    if not 0 < amount <= payment.amount - payment.refunded_amount:
        raise RefundRefused(why=_("more than what is left of the payment."))
    if not reason.strip():
        raise ValidationError(_("A refund needs a reason."))


def pay_with_card(payment: Payment, *, card_reference: str, save: bool, actor: Actor) -> NextAction:
    """The customer entered a card in the provider's fields for the pending top-up ``payment``:
    the provider checks its network (``CardRefused`` before any charge) and charges it. What
    the customer must still do comes back (3-D Secure). Credited by the provider's event."""
    implementation = providers.get(payment.provider)
    payment.refresh_from_db()
    if payment.status not in IN_FLIGHT:
        raise InvalidTransition(state=payment.get_status_display(), target=PaymentStatus.PENDING)
    ensure_no_transaction()
    try:
        return implementation.pay_with_card(payment, card_reference, save=save)
    except CardRefused as refusal:
        transitions.cancel_payment(payment, actor=actor, reason=f"card refused: {refusal}")
        raise


def resume_on_session(payment: Payment) -> NextAction:
    """The customer completes, in the panel, a payment the bank wants authenticated."""
    payment.refresh_from_db()
    if payment.status != PaymentStatus.REQUIRES_ACTION:
        return NextAction(ActionKind.NONE)
    ensure_no_transaction()
    return providers.get(payment.provider).resume_on_session(payment)


def start_card_setup(customer: Customer, *, provider: str, actor: Actor) -> StartedCardSetup:
    """The customer registers a card for automatic debit with ``provider`` (nothing charged)."""
    implementation = providers.get(provider)
    if not (implementation.saves_cards and implementation.is_available(customer)):
        raise ValidationError(_("This payment method is not available for this account."))
    ensure_no_transaction()
    return implementation.start_card_setup(customer, actor=actor)


def finish_card_setup(
    customer: Customer, *, provider: str, reference: str, actor: Actor
) -> SavedCard:
    """The provider confirmed the setup ``reference``: keep the card, for automatic debit."""
    ensure_no_transaction()
    card = providers.get(provider).finish_card_setup(customer, reference)
    return cards.save_card(customer, card, provider=provider, actor=actor)


def remove_card(card: SavedCard, *, actor: Actor) -> SavedCard:
    """Stop using ``card`` now, then ask its provider to forget it (after COMMIT)."""
    card, was_active = cards.mark_removed(card, actor=actor)
    if was_active:
        ensure_no_transaction()
        providers.get(card.provider).remove_card(card.external_ref)
    return card
