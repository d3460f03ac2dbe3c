# SPDX-License-Identifier: AGPL-3.0-or-later
"""A local fake of PayPal's REST API, over HTTP on 127.0.0.1, for the PayPal provider's tests.

No offline PayPal fake exists (cards-and-paypal.md §3.6), so this one implements exactly the
endpoints ``encaisse.payments.providers.paypal.client`` uses, with the JSON shapes of PayPal's
public reference: OAuth2 client-credentials token, Orders v2 (create, get, capture), Payments v2
(get capture, refund capture) and ``verify-webhook-signature``. It keeps orders, captures and
refunds in memory, replays the first answer to a write that repeats its ``PayPal-Request-Id``
(PayPal's idempotency), and records every request it served.

A test plays the payer (:meth:`FakePayPal.approve`) and PayPal's back-office
(:meth:`FakePayPal.complete_capture`, :meth:`FakePayPal.refund_at_paypal`), and scripts what
happens next: the status of the next capture (``DECLINED`` while the order still reads
``COMPLETED``, ``PENDING``), server errors before or after the work is done, slow answers, a
verification answering ``FAILURE``. Webhooks are not posted by themselves: each is kept in
:attr:`FakePayPal.webhooks` (raw body and ``PAYPAL-*`` headers) for the test to deliver; the
verification endpoint vouches for exactly those bodies and headers, for our webhook id.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

CLIENT_ID = "fake-client-id"
CLIENT_SECRET = "fake-client-secret"
WEBHOOK_ID = "1JE4291016473214C"
SIGNING_KEY = b"fake-paypal-signing-key"
AUTH_ALGO = "SHA256withRSA"


@dataclass(frozen=True, slots=True)
class Delivery:
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Served:
    method: str
    path: str
    request_id: str
    status: int


@dataclass(slots=True)
class Fault:
    path: str
    status: int = 500
    after: bool = False  # do the work, then answer the error (the answer is lost)
    delay: float = 0.0


class Reply(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status, self.body = status, body


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, name: str, issue: str = "", message: str = "") -> Reply:
    body: dict[str, Any] = {
        "name": name,
        "message": message or name,
        "debug_id": uuid.uuid4().hex[:13],
    }
    if issue:
        body["details"] = [{"issue": issue, "description": issue}]
    return Reply(status, body)


@dataclass(slots=True)
class State:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    captures: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    replays: dict[tuple[str, str], tuple[int, bytes]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    token_requests: int = 0
    served: list[Served] = field(default_factory=list)
    webhooks: list[Delivery] = field(default_factory=list)
    transmissions: dict[str, tuple[dict[str, str], Any]] = field(default_factory=dict)
    next_captures: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    verification: str = ""  # "" (check), or forced "SUCCESS" / "FAILURE"
    expires_in: int = 32400


class FakePayPal:
    """The server; :meth:`start` it on a free port of 127.0.0.1, :meth:`stop` it after."""

    def __init__(self) -> None:
        self.state = State()
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self._httpd: ThreadingHTTPServer | None = None

    # --- Lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakePayPal:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def reset(self) -> None:
        with self.lock:
            self.state = State()

    # --- Scenario control --------------------------------------------------------------------

    def next_capture(self, *statuses: str) -> None:
        """The status of the next captures (then ``COMPLETED``); ``INSTRUMENT_DECLINED`` makes
        the capture call itself fail with that issue."""
        self.state.next_captures.extend(statuses)

    def fail_next(self, path: str, *, status: int = 500, after: bool = False) -> None:
        """The next request whose path starts with ``path`` answers ``status``."""
        self.state.faults.append(Fault(path, status, after))

    def delay_next(self, path: str, seconds: float) -> None:
        self.state.faults.append(Fault(path, 0, delay=seconds))

    def count(self, method: str, prefix: str, suffix: str = "") -> int:
        return sum(
            1
            for s in self.state.served
            if s.method == method and s.path.startswith(prefix) and s.path.endswith(suffix)
        )

    # --- The payer and PayPal's back-office --------------------------------------------------

    def approve(self, approve_url: str) -> dict[str, Any]:
        """The payer logs in at the approval link and approves the order."""
        order_id = parse_qs(urlparse(approve_url).query)["token"][0]
        with self.lock:
            order = self.state.orders[order_id]
            assert order["status"] in ("PAYER_ACTION_REQUIRED", "CREATED"), order["status"]
            order["status"] = "APPROVED"
            order["payer"] = {"payer_id": "FAKEPAYER1", "email_address": "payer@example.com"}
            self._emit("CHECKOUT.ORDER.APPROVED", "checkout-order", self._order_view(order))
            return order

    def complete_capture(self, capture_id: str) -> None:
        """A ``PENDING`` capture clears (e.g. an eCheck) and PayPal says so."""
        with self.lock:
            capture = self.state.captures[capture_id]
            capture["status"] = "COMPLETED"
            capture.pop("status_details", None)
            self._emit("PAYMENT.CAPTURE.COMPLETED", "capture", capture)

    def refund_at_paypal(self, capture_id: str, value: str) -> dict[str, Any]:
        """The merchant refunds from PayPal's dashboard: only the webhook tells us."""
        with self.lock:
            return self._refund(capture_id, {"amount": {"value": value, "currency_code": "EUR"}})

    # --- Webhooks ----------------------------------------------------------------------------

    def _emit(self, event_type: str, resource_type: str, resource: dict[str, Any]) -> None:
        event = {
            "id": f"WH-{secrets.token_hex(8).upper()}-{next(self._ids):08d}",
            "event_version": "1.0",
            "create_time": _now(),
            "resource_type": resource_type,
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": f"{event_type} (fake)",
            "resource": json.loads(json.dumps(resource)),
        }
        body = json.dumps(event).encode()
        transmission_id = str(uuid.uuid4())
        when = _now()
        message = f"{transmission_id}|{when}|{WEBHOOK_ID}|{zlib.crc32(body)}".encode()
        signature = base64.b64encode(hmac.new(SIGNING_KEY, message, hashlib.sha256).digest())
        headers = {
            "Content-Type": "application/json",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": when,
            "PAYPAL-TRANSMISSION-SIG": signature.decode(),
            "PAYPAL-CERT-URL": f"{self.url}/v1/notifications/certs/CERT-fake",
            "PAYPAL-AUTH-ALGO": AUTH_ALGO,
        }
        self.state.transmissions[transmission_id] = (headers, event)
        self.state.webhooks.append(Delivery(body, headers))

    def _verify(self, data: dict[str, Any]) -> dict[str, Any]:
        if self.state.verification:
            return {"verification_status": self.state.verification}
        sent = self.state.transmissions.get(str(data.get("transmission_id")))
        ok = sent is not None and data.get("webhook_id") == WEBHOOK_ID
        if sent is not None:
            headers, event = sent
            ok = ok and data.get("webhook_event") == event
            for name, header in (
                ("transmission_time", "PAYPAL-TRANSMISSION-TIME"),
                ("transmission_sig", "PAYPAL-TRANSMISSION-SIG"),
                ("cert_url", "PAYPAL-CERT-URL"),
                ("auth_algo", "PAYPAL-AUTH-ALGO"),
            ):
                ok = ok and data.get(name) == headers[header]
        return {"verification_status": "SUCCESS" if ok else "FAILURE"}

    # --- Resources ---------------------------------------------------------------------------

    def _new_id(self) -> str:
        return f"{secrets.token_hex(4).upper()}{next(self._ids):09d}"

    def _order_view(self, order: dict[str, Any]) -> dict[str, Any]:
        unit = dict(order["unit"])
        captures = [self.state.captures[c] for c in order["captures"]]
        if captures:
            refunds = [r for r in self.state.refunds.values() if r["_capture"] in order["captures"]]
            unit["payments"] = {
                "captures": captures,
                "refunds": [{k: v for k, v in r.items() if k != "_capture"} for r in refunds],
            }
        view = {k: v for k, v in order.items() if k not in ("unit", "captures")}
        view["purchase_units"] = [unit]
        return view

    def _create_order(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        units = body.get("purchase_units") or []
        if body.get("intent") != "CAPTURE" or len(units) != 1 or "amount" not in units[0]:
            raise _error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER")
        amount = units[0]["amount"]
        if Decimal(amount["value"]) <= 0 or amount["value"] != f"{Decimal(amount['value']):.2f}":
            raise _error(422, "UNPROCESSABLE_ENTITY", "DECIMAL_PRECISION")
        order_id = self._new_id()
        context = body.get("payment_source", {}).get("paypal", {}).get("experience_context", {})
        if not (context.get("return_url") and context.get("cancel_url")):
            raise _error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER")
        self.state.orders[order_id] = {
            "id": order_id,
            "intent": "CAPTURE",
            "status": "PAYER_ACTION_REQUIRED",
            "create_time": _now(),
            "unit": {
                "reference_id": "default",
                "amount": amount,
                "custom_id": units[0].get("custom_id", ""),
            },
            "captures": [],
            "links": [
                {
                    "href": f"{self.url}/v2/checkout/orders/{order_id}",
                    "rel": "self",
                    "method": "GET",
                },
                {
                    "href": f"https://www.sandbox.paypal.com/checkoutnow?token={order_id}",
                    "rel": "payer-action",
                    "method": "GET",
                },
            ],
        }
        return 201, self._order_view(self.state.orders[order_id])

    def _order(self, order_id: str) -> dict[str, Any]:
        if order_id not in self.state.orders:
            raise _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        return self.state.orders[order_id]

    def _capture_order(self, order_id: str) -> tuple[int, dict[str, Any]]:
        order = self._order(order_id)
        if order["status"] == "COMPLETED":
            raise _error(422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED")
        if order["status"] != "APPROVED":
            raise _error(422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED")
        status = self.state.next_captures.pop(0) if self.state.next_captures else "COMPLETED"
        if status == "INSTRUMENT_DECLINED":  # the payer's funding source failed: no capture
            raise _error(422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED")
        capture: dict[str, Any] = {
            "id": self._new_id(),
            "status": status,
            "amount": order["unit"]["amount"],
            "final_capture": True,
            "custom_id": order["unit"]["custom_id"],
            "supplementary_data": {"related_ids": {"order_id": order_id}},
            "create_time": _now(),
        }
        if status in ("PENDING", "DECLINED"):
            reason = "PENDING_REVIEW" if status == "PENDING" else "DECLINED_BY_RISK_FRAUD_FILTERS"
            capture["status_details"] = {"reason": reason}
        self.state.captures[capture["id"]] = capture
        order["captures"].append(capture["id"])
        order["status"] = "COMPLETED"  # even when the capture is DECLINED
        event = {"COMPLETED": "COMPLETED", "PENDING": "PENDING"}.get(status, "DECLINED")
        self._emit(f"PAYMENT.CAPTURE.{event}", "capture", capture)
        return 201, self._order_view(order)

    def _refund(self, capture_id: str, body: dict[str, Any]) -> dict[str, Any]:
        capture = self.state.captures.get(capture_id)
        if capture is None:
            raise _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        if capture["status"] not in ("COMPLETED", "PARTIALLY_REFUNDED"):
            raise _error(422, "UNPROCESSABLE_ENTITY", "CAPTURE_FULLY_REFUNDED")
        total = Decimal(capture["amount"]["value"])
        done = sum(
            (
                Decimal(r["amount"]["value"])
                for r in self.state.refunds.values()
                if r["_capture"] == capture_id
            ),
            Decimal(0),
        )
        value = Decimal(body.get("amount", {}).get("value", total - done))
        if not 0 < value <= total - done:
            raise _error(422, "UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED")
        refund = {
            "id": self._new_id(),
            "status": "COMPLETED",
            "amount": {"currency_code": "EUR", "value": f"{value:.2f}"},
            "custom_id": capture["custom_id"],
            "create_time": _now(),
            "links": [
                {
                    "href": f"{self.url}/v2/payments/captures/{capture_id}",
                    "rel": "up",
                    "method": "GET",
                }
            ],
            "_capture": capture_id,
        }
        self.state.refunds[refund["id"]] = refund
        capture["status"] = "REFUNDED" if done + value == total else "PARTIALLY_REFUNDED"
        public = {k: v for k, v in refund.items() if k != "_capture"}
        self._emit("PAYMENT.CAPTURE.REFUNDED", "refund", public)
        return public

    # --- Routing -----------------------------------------------------------------------------

    def route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        match method, parts:
            case "POST", ["v2", "checkout", "orders"]:
                return self._create_order(body)
            case "GET", ["v2", "checkout", "orders", order_id]:
                return 200, self._order_view(self._order(order_id))
            case "POST", ["v2", "checkout", "orders", order_id, "capture"]:
                return self._capture_order(order_id)
            case "GET", ["v2", "payments", "captures", capture_id]:
                if capture_id not in self.state.captures:
                    raise _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
                return 200, self.state.captures[capture_id]
            case "POST", ["v2", "payments", "captures", capture_id, "refund"]:
                return 201, self._refund(capture_id, body)
            case "POST", ["v1", "notifications", "verify-webhook-signature"]:
                return 200, self._verify(body)
        raise _error(404, "NOT_FOUND")

    def token(self, authorization: str, form: str) -> tuple[int, dict[str, Any]]:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        self.state.token_requests += 1
        if authorization != f"Basic {expected}" or parse_qs(form).get("grant_type") != [
            "client_credentials"
        ]:
            return 401, {
                "error": "invalid_client",
                "error_description": "Client Authentication failed",
            }
        token = f"A21AA{secrets.token_urlsafe(24)}"
        self.state.tokens.add(token)
        return 200, {
            "scope": "https://uri.paypal.com/services/payments/payment",
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": self.state.expires_in,
            "nonce": _now(),
        }

    def fault_for(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.state.faults:
                if path.startswith(fault.path):
                    self.state.faults.remove(fault)
                    return fault
        return None

    def serve(self, method: str, path: str, headers: Any, raw: bytes) -> tuple[int, bytes]:
        fault = self.fault_for(path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status and not fault.after:
            return fault.status, json.dumps({"name": "INTERNAL_SERVER_ERROR"}).encode()
        request_id = headers.get("PayPal-Request-Id", "")
        with self.lock:
            status, answer = self._answer(method, path, headers, raw, request_id)
            self.state.served.append(Served(method, path, request_id, status))
        if fault is not None and fault.after:
            return fault.status, json.dumps({"name": "INTERNAL_SERVER_ERROR"}).encode()
        return status, answer

    def _answer(
        self, method: str, path: str, headers: Any, raw: bytes, request_id: str
    ) -> tuple[int, bytes]:
        if path == "/v1/oauth2/token":
            status, data = self.token(headers.get("Authorization", ""), raw.decode())
            return status, json.dumps(data).encode()
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.state.tokens:
            return 401, json.dumps(
                {"name": "AUTHENTICATION_FAILURE", "message": "Authentication failed"}
            ).encode()
        key = (path, request_id)
        if method == "POST" and request_id and key in self.state.replays:
            status, answer = self.state.replays[key]
            return (200 if status == 201 else status), answer
        try:
            status, data = self.route(method, path, json.loads(raw) if raw else {})
        except Reply as reply:
            status, data = reply.status, reply.body
        answer = json.dumps(data).encode()
        if method == "POST" and request_id:
            self.state.replays[key] = (status, answer)
        return status, answer


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakePayPal
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, answer = self.server_fake.serve(self.command, self.path, self.headers, raw)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except OSError:  # the client gave up (timeout tests)
            self.close_connection = True

    do_GET = do_POST = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read :attr:`FakePayPal.state`."""
