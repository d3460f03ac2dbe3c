# SPDX-License-Identifier: AGPL-3.0-or-later
"""The PayPal provider: the contract of :mod:`..base` over PayPal's Orders v2 (via :mod:`.client`).

- **Top-up**: an order (intent ``CAPTURE``, EUR) is created with ``PayPal-Request-Id``
  ``encaisse-order-<payment id>``; the customer is sent to its approval link.
- **Capture**: after approval, :meth:`PayPalProvider.fetch` captures the order it finds
  ``APPROVED``, with ``PayPal-Request-Id`` ``encaisse-capture-<payment id>``. ``fetch`` runs when
  the ``CHECKOUT.ORDER.APPROVED`` webhook is handled, when a return page refreshes the payment
  (``flows.refresh_payment``) and from the janitor: whichever comes first captures, the others
  get PayPal's replay of that capture (or find the order captured), so the customer is charged
  once. Capturing there is not a decision taken on an event: the order's state is re-read from
  PayPal, and the capture only completes what the customer approved at PayPal.
- **Truth**: the capture's status decides, never the order's (cards-and-paypal.md §3.2): an
  order ``COMPLETED`` holding a ``DECLINED`` capture is a failed payment.
- **Refunds** (full or partial) on the capture, with ``PayPal-Request-Id``
  ``encaisse-refund-<payment id>-<cents already refunded>-<cents asked>``: a retry after a lost
  answer finds the same key (nothing was booked meanwhile), the next partial refund a new one.
- **Webhooks** are verified by postback (``verify-webhook-signature``) with the ``PAYPAL-*``
  headers and our webhook id; a delivery PayPal does not vouch for is ``ForgedEvent``.

PayPal is not an off-session collection method here (no vaulting): no ``collect``. Disputes
(``CUSTOMER.DISPUTE.*``) are not read yet: they are stored and ignored.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from ... import transitions
from ...exceptions import ForgedEvent, InvalidEvent, ProviderError
from ...models import PaymentStatus
from ..base import (
    ActionKind,
    NextAction,
    PaymentProvider,
    ProviderEvent,
    ProviderPayment,
    ProviderRefund,
    RefundStatus,
    StartedTopUp,
    return_url,
)
from .client import (
    SANDBOX_URL,
    Money,
    Order,
    PayPalClient,
    PayPalError,
    PayPalUnavailable,
    WebhookHeaders,
)

if TYPE_CHECKING:
    from encaisse.core.actors import Actor
    from encaisse.customers.models import Customer

    from ...models import Payment

S = PaymentStatus
#: The capture decides (COMPLETED, then refunded or not, is money received).
CAPTURE_STATUS = {
    "COMPLETED": S.SUCCEEDED,
    "PARTIALLY_REFUNDED": S.SUCCEEDED,
    "REFUNDED": S.SUCCEEDED,
    "PENDING": S.PENDING,
    "DECLINED": S.FAILED,
    "FAILED": S.FAILED,
}
REFUND_STATUS = {
    "COMPLETED": RefundStatus.SUCCEEDED,
    "PENDING": RefundStatus.PENDING,
    "FAILED": RefundStatus.FAILED,
    "CANCELLED": RefundStatus.FAILED,
}
#: The webhook headers verification needs, by their field in :class:`WebhookHeaders`.
WEBHOOK_HEADERS = {
    "transmission_id": "paypal-transmission-id",
    "transmission_time": "paypal-transmission-time",
    "transmission_sig": "paypal-transmission-sig",
    "cert_url": "paypal-cert-url",
    "auth_algo": "paypal-auth-algo",
}
CUSTOM_ID = re.compile(r"encaisse-payment-(\d{1,18})")


_clients: dict[tuple[str, str, str], PayPalClient] = {}
_clients_lock = threading.Lock()


def _client_for(base_url: str, client_id: str, client_secret: str) -> PayPalClient:
    """One client (connection pool, cached token) per configuration, shared by threads."""
    key = (base_url, client_id, client_secret)
    with _clients_lock:
        if key not in _clients:
            _clients[key] = PayPalClient(base_url, client_id, client_secret)
        return _clients[key]


def forget_clients() -> None:
    """Close and forget the clients (their tokens too): settings changed, or between tests."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def _setting(name: str, default: str = "") -> str:
    return str(getattr(settings, name, default) or default)


class PayPalProvider(PaymentProvider):
    #: Not ``paypal``: that is the payment method staff record by hand (``PaymentMethod``),
    #: whose ledger keys a provider of the same name would share.
    identifier = "paypal_checkout"
    verbose_name = _("PayPal")
    supports_refunds = True

    @property
    def test_mode(self) -> bool:
        return "sandbox" in self._api_url()

    def is_available(self, customer: Customer) -> bool:
        return bool(_setting("ENCAISSE_PAYPAL_CLIENT_ID"))

    @staticmethod
    def _api_url() -> str:
        return _setting("ENCAISSE_PAYPAL_API_URL", SANDBOX_URL)

    def client(self) -> PayPalClient:
        return _client_for(
            self._api_url(),
            _setting("ENCAISSE_PAYPAL_CLIENT_ID"),
            _setting("ENCAISSE_PAYPAL_CLIENT_SECRET"),
        )

    # --- Top-up ------------------------------------------------------------------------------

    def start_top_up(self, customer: Customer, amount: Decimal, *, actor: Actor) -> StartedTopUp:
        payment = transitions.open_payment(
            customer, provider=self.identifier, amount=amount, actor=actor
        )
        order = self.client().create_order(
            Money(payment.amount, payment.currency),
            custom_id=f"encaisse-payment-{payment.pk}",
            return_url=return_url(payment),
            cancel_url=return_url(payment, cancelled=True),
            request_id=f"encaisse-order-{payment.pk}",
        )
        payment = transitions.set_reference(payment, external_ref=order.id)
        if not order.approve_url:
            raise ProviderError()  # nothing to show; the janitor finds the order unapproved
        return StartedTopUp(payment, NextAction(ActionKind.REDIRECT, url=order.approve_url))

    # --- Truth -------------------------------------------------------------------------------

    def fetch(self, payment: Payment) -> ProviderPayment | None:
        if not payment.external_ref:
            return None
        client = self.client()
        try:
            order = client.get_order(payment.external_ref)
        except PayPalError as error:
            if error.status == 404:
                return None
            raise
        if order.status == "APPROVED" and not order.captures:
            try:
                request_id = f"encaisse-capture-{payment.pk}"
                order = client.capture_order(order.id, request_id=request_id)
            except PayPalUnavailable:
                raise
            except PayPalError as error:
                if error.issue == "INSTRUMENT_DECLINED":
                    return _truth(order, status=S.FAILED, reason="instrument_declined")
                if error.issue != "ORDER_ALREADY_CAPTURED":
                    raise
                order = client.get_order(order.id)
        return _truth(order)

    # --- Refunds -----------------------------------------------------------------------------

    def refund(self, payment: Payment, amount: Decimal, reason: str) -> ProviderRefund:
        client = self.client()
        order = client.get_order(payment.external_ref)
        capture = next(
            (c for c in order.captures if CAPTURE_STATUS.get(c.status) == S.SUCCEEDED), None
        )
        if capture is None:
            raise ProviderError()
        key = f"encaisse-refund-{payment.pk}-{_cents(payment.refunded_amount)}-{_cents(amount)}"
        try:
            done = client.refund_capture(
                capture.id, Money(amount, payment.currency), request_id=key, note=reason
            )
        except PayPalUnavailable:
            raise
        except PayPalError as error:
            if error.status == 422:  # refused (more than what is left, too late…)
                return ProviderRefund(f"refused:{key}", amount, RefundStatus.FAILED)
            raise
        refunded = done.amount.value if done.amount else amount
        return ProviderRefund(
            done.id, refunded, REFUND_STATUS.get(done.status, RefundStatus.PENDING)
        )

    # --- Webhooks ----------------------------------------------------------------------------

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        given = {name.lower(): value for name, value in headers.items()}
        values = {field: given.get(header, "") for field, header in WEBHOOK_HEADERS.items()}
        webhook_id = _setting("ENCAISSE_PAYPAL_WEBHOOK_ID")
        if not all(values.values()) or not webhook_id:
            raise ForgedEvent()
        try:
            data = json.loads(body)
            event_id, event_type = str(data["id"]), str(data["event_type"])
            resource = data.get("resource") or {}
            if not isinstance(resource, dict):
                raise TypeError("resource")
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidEvent() from exc
        if not self.client().verify_webhook(body, WebhookHeaders(**values), webhook_id=webhook_id):
            raise ForgedEvent()
        return ProviderEvent(
            event_id=event_id,
            event_type=event_type,
            payload=data,
            object_ref=_order_id(event_type, resource),
            payment_id=_payment_id(resource),
        )


def _truth(
    order: Order, *, status: PaymentStatus | None = None, reason: str = ""
) -> ProviderPayment:
    """Our view of ``order``: the status of its capture, else of the order still unpaid."""
    if order.amount is None:
        raise ProviderError()
    capture = order.captures[-1] if order.captures else None
    if status is None and capture is not None:
        status = CAPTURE_STATUS.get(capture.status, S.PENDING)
        reason = f"capture {capture.status.lower()}" if status == S.FAILED else ""
        if capture.reason and status == S.FAILED:
            reason = f"{reason}: {capture.reason.lower()}"
    elif status is None:
        status = S.CANCELLED if order.status == "VOIDED" else S.PENDING
        reason = "order voided" if status == S.CANCELLED else ""
    refunds = tuple(
        ProviderRefund(r.id, r.amount.value, REFUND_STATUS.get(r.status, RefundStatus.PENDING))
        for r in order.refunds
        if r.amount is not None
    )
    return ProviderPayment(
        reference=order.id,
        status=status,
        amount=order.amount.value,
        currency=order.amount.currency,
        failure_reason=reason,
        refunds=refunds,
    )


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _order_id(event_type: str, resource: Mapping[str, Any]) -> str:
    """The order an event is about: the resource itself (``CHECKOUT.ORDER.*``), or the order a
    capture or refund belongs to (``supplementary_data.related_ids.order_id``)."""
    if event_type.startswith("CHECKOUT.ORDER."):
        return str(resource.get("id", ""))
    related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
    return str(related.get("order_id", ""))


def _payment_id(resource: Mapping[str, Any]) -> int | None:
    """Our payment id, echoed back through the purchase unit's ``custom_id``."""
    custom = resource.get("custom_id")
    if not custom:
        units = resource.get("purchase_units") or [{}]
        custom = units[0].get("custom_id", "") if isinstance(units[0], dict) else ""
    match = CUSTOM_ID.fullmatch(str(custom or ""))
    return int(match.group(1)) if match else None
