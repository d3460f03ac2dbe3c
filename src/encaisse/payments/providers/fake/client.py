# SPDX-License-Identifier: AGPL-3.0-or-later
"""The fake payment service itself: its books, what it was asked, the events it sends.

Module-level state, like ``django.core.mail.outbox`` for the ``locmem`` e-mail backend: no
network, deterministic (references derive from our payment ids, event ids count from 1), reset
between tests by :func:`reset`. A test scripts what happens next (:func:`script`), plays the
customer (:func:`complete`) or the provider's back-office (:func:`refund_at_provider`,
:func:`open_dispute`, :func:`close_dispute`), and delivers :data:`webhooks` to the application
as a provider would (``payments.events.receive_event``), signed with HMAC-SHA256 over the body.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ...models import PaymentStatus
from ..base import DisputeStatus, ProviderDispute, ProviderPayment, ProviderRefund, RefundStatus

SIGNATURE_HEADER = "Fake-Signature"
SECRET = b"encaisse-fake-provider-secret"


class Outcome(enum.StrEnum):
    SUCCEED = "succeed"
    DECLINE = "decline"
    REQUIRE_ACTION = "require_action"


@dataclass(frozen=True, slots=True)
class Call:
    """One request the application made: ``create``, ``collect``, ``fetch`` or ``refund``."""

    operation: str
    payment_id: int
    amount: Decimal | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Delivery:
    """A webhook the fake sent: the raw body and its headers, as an HTTP request carries them."""

    body: bytes
    headers: dict[str, str]


@dataclass(slots=True)
class Charge:
    reference: str
    payment_id: int
    amount: Decimal
    currency: str
    status: PaymentStatus = PaymentStatus.PENDING
    failure_reason: str = ""
    refunds: list[ProviderRefund] = field(default_factory=list)
    dispute: ProviderDispute | None = None

    def truth(self) -> ProviderPayment:
        return ProviderPayment(
            reference=self.reference,
            status=self.status,
            amount=self.amount,
            currency=self.currency,
            failure_reason=self.failure_reason,
            refunds=tuple(self.refunds),
            dispute=self.dispute,
        )


#: What the application asked, in order.
outbox: list[Call] = []
#: The webhooks sent, in order, not delivered by themselves: a test delivers them.
webhooks: list[Delivery] = []
#: The fake's books, by reference.
charges: dict[str, Charge] = {}
_script: list[Outcome] = []
_counters: dict[str, int] = {}


def reset() -> None:
    """Forget everything (call it around each test, as Django empties ``mail.outbox``)."""
    outbox.clear()
    webhooks.clear()
    charges.clear()
    _script.clear()
    _counters.clear()


def script(*outcomes: Outcome | str) -> None:
    """What the next payment attempts do, in order (then: succeed)."""
    _script.extend(Outcome(outcome) for outcome in outcomes)


def _next(kind: str) -> int:
    _counters[kind] = _counters.get(kind, 0) + 1
    return _counters[kind]


def sign(body: bytes, secret: bytes = SECRET) -> dict[str, str]:
    return {SIGNATURE_HEADER: hmac.new(secret, body, hashlib.sha256).hexdigest()}


def _emit(event_type: str, charge: Charge, **data: Any) -> None:
    body = {
        "id": f"evt_{_next('event')}",
        "type": event_type,
        "payment": charge.reference,
        "payment_id": charge.payment_id,
        **data,
    }
    raw = json.dumps(body, sort_keys=True).encode()
    webhooks.append(Delivery(raw, sign(raw)))


def create(payment_id: int, amount: Decimal, currency: str) -> Charge:
    """Open a charge for our payment: once per payment id, like an idempotency key."""
    outbox.append(Call("create", payment_id, amount))
    reference = f"fake_pay_{payment_id}"
    if reference not in charges:
        charges[reference] = Charge(reference, payment_id, amount, currency)
        _emit("payment.created", charges[reference])
    return charges[reference]


def _attempt(charge: Charge) -> Charge:
    if charge.status not in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION):
        return charge  # a retried attempt: the first result stands
    outcome = _script.pop(0) if _script else Outcome.SUCCEED
    if outcome == Outcome.SUCCEED:
        charge.status, charge.failure_reason = PaymentStatus.SUCCEEDED, ""
        _emit("payment.succeeded", charge)
    elif outcome == Outcome.DECLINE:
        charge.status, charge.failure_reason = PaymentStatus.FAILED, "card_declined"
        _emit("payment.failed", charge, reason=charge.failure_reason)
    else:
        charge.status, charge.failure_reason = PaymentStatus.REQUIRES_ACTION, "authentication"
        _emit("payment.requires_action", charge)
    return charge


def collect(payment_id: int, amount: Decimal, currency: str) -> Charge:
    """Charge off-session (a saved card): the next scripted outcome, once per payment."""
    charge = create(payment_id, amount, currency)
    outbox.append(Call("collect", payment_id, amount))
    return _attempt(charge)


def complete(reference: str) -> Charge:
    """The customer goes through the payment page (authentication included)."""
    return _attempt(charges[reference])


def find(reference: str, payment_id: int) -> Charge | None:
    outbox.append(Call("fetch", payment_id))
    return charges.get(reference) or charges.get(f"fake_pay_{payment_id}")


def refund(reference: str, amount: Decimal, reason: str) -> ProviderRefund:
    charge = charges[reference]
    outbox.append(Call("refund", charge.payment_id, amount, reason))
    left = charge.amount - sum((r.amount for r in charge.refunds), Decimal(0))
    if charge.status != PaymentStatus.SUCCEEDED or not 0 < amount <= left:
        return ProviderRefund(f"fake_re_{_next('refund')}", amount, RefundStatus.FAILED)
    done = ProviderRefund(f"fake_re_{_next('refund')}", amount, RefundStatus.SUCCEEDED)
    charge.refunds.append(done)
    _emit("refund.succeeded", charge, refund=done.reference, amount=str(amount))
    return done


def refund_at_provider(reference: str, amount: Decimal) -> ProviderRefund:
    """Someone refunds from the provider's back-office: only its event tells the application."""
    before = len(outbox)
    done = refund(reference, amount, "refunded at the provider")
    del outbox[before:]  # the application asked nothing
    return done


def open_dispute(reference: str) -> ProviderDispute:
    charge = charges[reference]
    charge.dispute = ProviderDispute(f"fake_dp_{_next('dispute')}", DisputeStatus.OPEN)
    _emit("dispute.created", charge, dispute=charge.dispute.reference)
    return charge.dispute


def close_dispute(reference: str, *, won: bool) -> ProviderDispute:
    charge = charges[reference]
    if charge.dispute is None:
        raise ValueError(f"{reference} has no dispute: open_dispute first")
    status = DisputeStatus.WON if won else DisputeStatus.LOST
    charge.dispute = ProviderDispute(charge.dispute.reference, status)
    _emit("dispute.closed", charge, dispute=charge.dispute.reference, status=status.value)
    return charge.dispute
