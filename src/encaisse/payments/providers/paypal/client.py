# SPDX-License-Identifier: AGPL-3.0-or-later
"""A small typed client of PayPal's REST API: the only module of Encaisse importing httpx.

Written by hand on purpose: PayPal's official ``paypal-server-sdk`` has no webhook-verification
helper and fixes its base URL through an environment enum (so it cannot be pointed at a local
fake), and the older SDKs (``paypal-checkout-serversdk``, ``paypalrestsdk``) are deprecated
(cards-and-paypal.md §3.5). We use six calls, all from PayPal's public REST reference:

- ``POST /v1/oauth2/token`` (client credentials; the token is cached until shortly before it
  expires);
- Orders v2: ``POST /v2/checkout/orders``, ``GET /v2/checkout/orders/{id}``,
  ``POST /v2/checkout/orders/{id}/capture``;
- Payments v2: ``GET /v2/payments/captures/{id}``, ``POST /v2/payments/captures/{id}/refund``;
- ``POST /v1/notifications/verify-webhook-signature`` (verification by postback).

Every write carries a ``PayPal-Request-Id`` chosen by the caller from our own ids: PayPal then
answers a retried request with the first result instead of acting twice (it keeps the id
6 hours). Every call has a timeout (connect 5 s, read 15 s). An error answer raises
:class:`PayPalError` (HTTP status, PayPal's error ``name``, ``debug_id``, first ``issue``); a
timeout, a connection failure or a 5xx raises :class:`PayPalUnavailable`: the outcome is then
unknown, never a failure. Amounts cross this module as ``Decimal`` and go to PayPal as decimal
strings with two places (``amount.value``). No ORM here.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from ...exceptions import ProviderError, ProviderUnavailable

SANDBOX_URL = "https://api-m.sandbox.paypal.com"
#: Connect 5 s, read (and write, pool) 15 s: a provider call never holds a worker for long.
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
#: Renew a token this long before PayPal says it expires (clock skew, a slow request).
TOKEN_MARGIN = 60.0
_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


class PayPalError(ProviderError):
    """PayPal answered with an error: ``status`` (HTTP), ``name`` (e.g. ``UNPROCESSABLE_ENTITY``),
    ``issue`` (the first ``details[].issue``, e.g. ``INSTRUMENT_DECLINED``) and ``debug_id`` (for
    PayPal's support)."""

    def __init__(self, *, status: int, name: str = "", issue: str = "", debug_id: str = "") -> None:
        self.status, self.name, self.issue, self.debug_id = status, name, issue, debug_id
        super().__init__()  # after: the base class renders str(self)

    def __str__(self) -> str:
        """The user's message, then what PayPal's support needs (kept on failed event rows)."""
        detail = " ".join(str(part) for part in (self.status, self.name, self.issue) if part)
        debug = f" debug_id={self.debug_id}" if self.debug_id else ""
        return f"{super().__str__()} [{detail}{debug}]"


class PayPalUnavailable(PayPalError, ProviderUnavailable):
    """No usable answer (timeout, connection error, 5xx): what happened is unknown."""


@dataclass(frozen=True, slots=True)
class Money:
    value: Decimal
    currency: str

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Money:
        return cls(Decimal(str(data["value"])), str(data["currency_code"]))

    def wire(self) -> dict[str, str]:
        return {"currency_code": self.currency, "value": f"{self.value.quantize(Decimal('0.01'))}"}


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    status: str  # COMPLETED, PENDING, FAILED, CANCELLED
    amount: Money | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Refund:
        amount = Money.parse(data["amount"]) if data.get("amount") else None
        return cls(str(data["id"]), str(data["status"]), amount)


@dataclass(frozen=True, slots=True)
class Capture:
    id: str
    status: str  # COMPLETED, DECLINED, FAILED, PENDING, PARTIALLY_REFUNDED, REFUNDED
    amount: Money
    reason: str = ""  # status_details.reason (PENDING, DECLINED)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Capture:
        details = data.get("status_details") or {}
        return cls(
            str(data["id"]),
            str(data["status"]),
            Money.parse(data["amount"]),
            str(details.get("reason", "")),
        )


@dataclass(frozen=True, slots=True)
class Order:
    """An order with its first purchase unit (we create one per order)."""

    id: str
    status: str  # CREATED, SAVED, APPROVED, VOIDED, COMPLETED, PAYER_ACTION_REQUIRED
    amount: Money | None
    custom_id: str
    approve_url: str
    captures: tuple[Capture, ...]
    refunds: tuple[Refund, ...]

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Order:
        units = data.get("purchase_units") or [{}]
        unit = units[0]
        payments = unit.get("payments") or {}
        links = {link.get("rel"): link.get("href", "") for link in data.get("links", [])}
        return cls(
            id=str(data["id"]),
            status=str(data["status"]),
            amount=Money.parse(unit["amount"]) if unit.get("amount") else None,
            custom_id=str(unit.get("custom_id", "")),
            # "payer-action" when the order names payment_source.paypal, "approve" otherwise.
            approve_url=links.get("payer-action") or links.get("approve") or "",
            captures=tuple(Capture.parse(c) for c in payments.get("captures", [])),
            refunds=tuple(Refund.parse(r) for r in payments.get("refunds", [])),
        )


@dataclass(frozen=True, slots=True)
class WebhookHeaders:
    """The ``PAYPAL-*`` headers of a webhook delivery, needed to verify it."""

    transmission_id: str
    transmission_time: str
    transmission_sig: str
    cert_url: str
    auth_algo: str


class PayPalClient:
    """One PayPal REST application (client id and secret) at ``base_url``; thread-safe."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = (client_id, client_secret)
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout or TIMEOUT)
        self._token = ""
        self._token_expires = 0.0
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    # --- Transport -------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise PayPalUnavailable(status=0, name="TIMEOUT") from exc
        except httpx.TransportError as exc:
            raise PayPalUnavailable(status=0, name="TRANSPORT_ERROR") from exc
        if not response.is_success:
            raise _error(response)
        try:
            return response.json() if response.content else {}
        except ValueError as exc:  # a proxy's page, a truncated body: nothing we can trust
            raise PayPalUnavailable(status=response.status_code, name="INVALID_BODY") from exc

    def _token_now(self) -> str:
        with self._lock:
            if self._token and time.monotonic() < self._token_expires:
                return self._token
            data = self._send(
                "POST",
                "/v1/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=self._credentials,
            )
            self._token = str(data["access_token"])
            lifetime = float(data.get("expires_in", 0))
            self._token_expires = time.monotonic() + max(lifetime - TOKEN_MARGIN, 0.0)
            return self._token

    def _call(
        self,
        method: str,
        path: str,
        *,
        request_id: str = "",
        body: Any = None,
        content: bytes | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {self._token_now()}"}
        if method == "POST":
            headers["Content-Type"] = "application/json"
            headers["Prefer"] = "return=representation"
        if request_id:
            headers["PayPal-Request-Id"] = request_id
        if content is None and body is not None:
            content = json.dumps(body).encode()
        return self._send(method, path, headers=headers, content=content)

    # --- Orders v2 -------------------------------------------------------------------------

    def create_order(
        self,
        amount: Money,
        *,
        custom_id: str,
        return_url: str,
        cancel_url: str,
        request_id: str,
        locale: str = "fr-FR",
    ) -> Order:
        """An order to capture ``amount`` once the payer approved it at :attr:`Order.approve_url`."""
        body = {
            "intent": "CAPTURE",
            "purchase_units": [{"amount": amount.wire(), "custom_id": custom_id}],
            "payment_source": {
                "paypal": {
                    "experience_context": {
                        "return_url": return_url,
                        "cancel_url": cancel_url,
                        "user_action": "PAY_NOW",
                        "shipping_preference": "NO_SHIPPING",
                        "locale": locale,
                    }
                }
            },
        }
        return Order.parse(
            self._call("POST", "/v2/checkout/orders", request_id=request_id, body=body)
        )

    def get_order(self, order_id: str) -> Order:
        return Order.parse(self._call("GET", f"/v2/checkout/orders/{_safe(order_id)}"))

    def capture_order(self, order_id: str, *, request_id: str) -> Order:
        """Capture an approved order; the capture's own status says whether money moved."""
        path = f"/v2/checkout/orders/{_safe(order_id)}/capture"
        return Order.parse(self._call("POST", path, request_id=request_id, body={}))

    # --- Payments v2 -----------------------------------------------------------------------

    def get_capture(self, capture_id: str) -> Capture:
        return Capture.parse(self._call("GET", f"/v2/payments/captures/{_safe(capture_id)}"))

    def refund_capture(
        self, capture_id: str, amount: Money, *, request_id: str, note: str = ""
    ) -> Refund:
        body: dict[str, Any] = {"amount": amount.wire()}
        if note:
            body["note_to_payer"] = note[:255]
        path = f"/v2/payments/captures/{_safe(capture_id)}/refund"
        refund = Refund.parse(self._call("POST", path, request_id=request_id, body=body))
        return refund if refund.amount is not None else Refund(refund.id, refund.status, amount)

    # --- Webhooks --------------------------------------------------------------------------

    def verify_webhook(self, body: bytes, headers: WebhookHeaders, *, webhook_id: str) -> bool:
        """Ask PayPal whether a delivery is genuine (``verification_status`` ``SUCCESS``).

        The event is sent back **as received** (the raw bytes spliced into the request), not
        re-serialised: PayPal checks the signature over the body it sent, and a re-encoded body
        fails (paypal/PayPal-Python-SDK#196). ``body`` must already be known to be JSON."""
        fields = {
            "auth_algo": headers.auth_algo,
            "cert_url": headers.cert_url,
            "transmission_id": headers.transmission_id,
            "transmission_sig": headers.transmission_sig,
            "transmission_time": headers.transmission_time,
            "webhook_id": webhook_id,
        }
        content = json.dumps(fields)[:-1].encode() + b', "webhook_event": ' + body + b"}"
        data = self._call("POST", "/v1/notifications/verify-webhook-signature", content=content)
        return bool(data.get("verification_status") == "SUCCESS")


def _safe(identifier: str) -> str:
    """A PayPal id as a path segment: PayPal ids are alphanumeric, refuse anything else."""
    if not _ID.fullmatch(identifier):
        raise PayPalError(status=0, name="INVALID_RESOURCE_ID")
    return identifier


def _error(response: httpx.Response) -> PayPalError:
    try:
        data = response.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    details = data.get("details") or [{}]
    kind = PayPalUnavailable if response.status_code >= 500 else PayPalError
    return kind(
        status=response.status_code,
        name=str(data.get("name") or data.get("error") or ""),
        issue=str(details[0].get("issue", "")) if isinstance(details[0], dict) else "",
        debug_id=str(data.get("debug_id", "")),
    )
