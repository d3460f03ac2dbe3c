# SPDX-License-Identifier: AGPL-3.0-or-later
"""The PayPal provider's real client, against a local fake PayPal (``paypal_server``): it passes
the contract of every provider, and honours what is PayPal's own (issue 13, acceptance 2)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from tests.payments.contract import PaymentProviderContract, Webhook
from tests.payments.providers.paypal_server import (
    CLIENT_ID,
    CLIENT_SECRET,
    WEBHOOK_ID,
    FakePayPal,
)

from encaisse.ledger.models import LedgerTransaction
from encaisse.ledger.selectors import customer_balance
from encaisse.payments import events, flows
from encaisse.payments.exceptions import ForgedEvent, ProviderUnavailable
from encaisse.payments.models import EventStatus, InboundEvent, Payment
from encaisse.payments.providers import get as get_provider
from encaisse.payments.providers.base import StartedTopUp
from encaisse.payments.providers.collection import install
from encaisse.payments.providers.paypal import client as paypal_client
from encaisse.payments.providers.paypal import provider as paypal_provider

PAYPAL = "encaisse.payments.providers.paypal.PayPalProvider"
ID = "paypal_checkout"


@pytest.fixture(scope="module")
def paypal_server() -> Iterator[FakePayPal]:
    server = FakePayPal().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def paypal(paypal_server: FakePayPal, settings: Any, request: Any) -> Iterator[FakePayPal]:
    """The fake PayPal, emptied, and the settings that point the provider at it."""
    settings.ENCAISSE_PAYPAL_API_URL = paypal_server.url
    settings.ENCAISSE_PAYPAL_CLIENT_ID = CLIENT_ID
    settings.ENCAISSE_PAYPAL_CLIENT_SECRET = CLIENT_SECRET
    settings.ENCAISSE_PAYPAL_WEBHOOK_ID = WEBHOOK_ID
    paypal_server.reset()
    paypal_provider.forget_clients()
    if request.instance is not None:
        request.instance.paypal = paypal_server
    yield paypal_server
    paypal_provider.forget_clients()
    paypal_server.reset()


class TestPayPalProvider(PaymentProviderContract):
    provider_path = PAYPAL
    paypal: FakePayPal

    def reset_provider(self) -> None:
        self._delivered = 0

    def customer_completes(self, started: StartedTopUp) -> None:
        self.paypal.approve(started.action.url)

    def sent_webhooks(self) -> list[Webhook]:
        new = self.paypal.state.webhooks[self._delivered :]
        self._delivered = len(self.paypal.state.webhooks)
        return [(delivery.body, delivery.headers) for delivery in new]


# --- PayPal's own behaviour ------------------------------------------------------------------


@pytest.fixture
def provider(settings: Any) -> Iterator[Any]:
    settings.ENCAISSE_PAYMENT_PROVIDERS = [PAYPAL]
    install()
    yield get_provider(ID)
    install([])


def _deliver(server: FakePayPal, start: int = 0) -> list[InboundEvent]:
    rows = []
    for delivery in server.state.webhooks[start:]:
        row = events.receive_event(ID, delivery.body, delivery.headers)
        rows.append(events.handle_event(row))
    return rows


def _start(customer: Any, amount: str, actor: Any) -> StartedTopUp:
    return flows.start_top_up(customer, provider=ID, amount=Decimal(amount), actor=actor)


def test_a_completed_order_whose_capture_is_declined_is_a_failed_payment(
    provider, paypal, make_customer, actor, assert_ledger_ok
):
    customer = make_customer()
    paypal.next_capture("DECLINED")
    started = _start(customer, "25.00", actor)
    paypal.approve(started.action.url)
    _deliver(paypal)

    order = paypal.state.orders[started.payment.external_ref]
    assert order["status"] == "COMPLETED"  # the order says done…
    payment = Payment.objects.get(pk=started.payment.pk)
    assert payment.status == "failed"  # …the capture decides
    assert "declined" in payment.failure_reason
    assert customer_balance(customer).prepaid == 0
    assert not LedgerTransaction.objects.filter(customer=customer).exists()
    _deliver(paypal)  # the PAYMENT.CAPTURE.DECLINED event too: still nothing
    assert customer_balance(customer).prepaid == 0
    assert_ledger_ok()


def test_a_pending_capture_is_credited_when_paypal_completes_it(
    provider, paypal, make_customer, actor, assert_ledger_ok
):
    customer = make_customer()
    paypal.next_capture("PENDING")
    started = _start(customer, "15.00", actor)
    paypal.approve(started.action.url)
    _deliver(paypal)
    assert Payment.objects.get(pk=started.payment.pk).status == "pending"
    assert customer_balance(customer).prepaid == 0

    (capture_id,) = paypal.state.captures
    seen = len(paypal.state.webhooks)
    paypal.complete_capture(capture_id)
    _deliver(paypal, seen)

    assert Payment.objects.get(pk=started.payment.pk).status == "succeeded"
    assert customer_balance(customer).prepaid == Decimal("15.00")
    assert_ledger_ok()


def test_every_write_carries_a_request_id_derived_from_our_payment(
    provider, paypal, make_customer, actor
):
    started = _start(make_customer(), "20.00", actor)
    paypal.approve(started.action.url)
    _deliver(paypal)
    payment = Payment.objects.get(pk=started.payment.pk)
    flows.request_refund(payment, amount=Decimal("5.00"), reason="goodwill", actor=actor)

    writes = {
        s.path.rsplit("/", 1)[-1]: s.request_id for s in paypal.state.served if s.method == "POST"
    }
    pk = payment.pk
    assert writes["orders"] == f"encaisse-order-{pk}"
    assert writes["capture"] == f"encaisse-capture-{pk}"
    assert writes["refund"] == f"encaisse-refund-{pk}-0-500"


def test_a_write_retried_with_its_request_id_acts_once_at_paypal(provider, paypal):
    client = provider.client()
    amount = paypal_client.Money(Decimal("10.00"), "EUR")
    urls = {"return_url": "https://x.invalid/r", "cancel_url": "https://x.invalid/c"}
    orders = {
        client.create_order(amount, custom_id="encaisse-payment-1", request_id="o-1", **urls).id
        for _ in range(2)
    }
    (order_id,) = orders
    paypal.approve(f"https://www.sandbox.paypal.com/checkoutnow?token={order_id}")
    captures = {client.capture_order(order_id, request_id="c-1").captures[0].id for _ in range(2)}
    (capture_id,) = captures
    part = paypal_client.Money(Decimal("4.00"), "EUR")
    refunds = {client.refund_capture(capture_id, part, request_id="r-1").id for _ in range(2)}

    assert len(refunds) == 1
    assert (len(paypal.state.orders), len(paypal.state.captures), len(paypal.state.refunds)) == (
        1,
        1,
        1,
    )
    assert client.get_capture(capture_id).status == "PARTIALLY_REFUNDED"


def test_a_refund_whose_answer_was_lost_is_retried_and_booked_once(
    provider, paypal, make_customer, actor, assert_ledger_ok
):
    customer = make_customer()
    started = _start(customer, "30.00", actor)
    paypal.approve(started.action.url)
    _deliver(paypal)
    payment = Payment.objects.get(pk=started.payment.pk)

    paypal.fail_next("/v2/payments/captures/", status=502, after=True)  # refunded, answer lost
    with pytest.raises(ProviderUnavailable):
        flows.request_refund(payment, amount=Decimal("10.00"), reason="goodwill", actor=actor)
    assert customer_balance(customer).prepaid == Decimal("30.00")  # nothing booked

    flows.request_refund(payment, amount=Decimal("10.00"), reason="goodwill", actor=actor)
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("10.00")
    assert len(paypal.state.refunds) == 1
    assert customer_balance(customer).prepaid == Decimal("20.00")
    assert_ledger_ok()


def test_the_token_is_asked_once_and_cached_until_it_expires(
    provider, paypal, make_customer, actor
):
    started = _start(make_customer(), "20.00", actor)
    paypal.approve(started.action.url)
    _deliver(paypal)
    assert paypal.count("POST", "/v2/") >= 2 and paypal.state.token_requests == 1

    paypal_provider.forget_clients()
    paypal.state.expires_in = 30  # shorter than the safety margin: never reused
    provider.client().get_order(started.payment.external_ref)
    provider.client().get_order(started.payment.external_ref)
    assert paypal.state.token_requests == 3


def test_a_server_error_is_unavailable_and_nothing_is_booked_until_paypal_answers(
    provider, paypal, make_customer, actor, assert_ledger_ok
):
    customer = make_customer()
    started = _start(customer, "20.00", actor)
    paypal.approve(started.action.url)
    paypal.fail_next("/v2/checkout/orders/", status=503)

    (row,) = _deliver(paypal)

    assert row.status == EventStatus.FAILED and "PayPalUnavailable" in row.error
    assert Payment.objects.get(pk=started.payment.pk).status == "pending"
    assert customer_balance(customer).prepaid == 0
    row.claimed_until = None
    row.save(update_fields=["claimed_until"])
    assert events.handle_pending_events() >= 1  # PayPal answers again: credited once
    assert customer_balance(customer).prepaid == Decimal("20.00")
    assert_ledger_ok()


def test_a_timeout_is_unavailable_and_moves_nothing(
    provider, paypal, make_customer, actor, monkeypatch
):
    monkeypatch.setattr(paypal_client, "TIMEOUT", httpx.Timeout(0.2, connect=0.2))
    paypal_provider.forget_clients()
    customer = make_customer()
    started = _start(customer, "20.00", actor)
    paypal.approve(started.action.url)
    paypal.delay_next("/v2/checkout/orders/", 1.0)

    with pytest.raises(paypal_client.PayPalUnavailable) as raised:
        flows.refresh_payment(started.payment, actor=actor)

    assert isinstance(raised.value, ProviderUnavailable) and raised.value.name == "TIMEOUT"
    assert Payment.objects.get(pk=started.payment.pk).status == "pending"
    assert customer_balance(customer).prepaid == 0


def test_an_error_answer_is_typed_with_paypal_s_name_and_debug_id(provider, paypal):
    with pytest.raises(paypal_client.PayPalError) as raised:
        provider.client().get_capture("NOSUCHCAPTURE1")
    error = raised.value
    assert (error.status, error.name, error.issue) == (
        404,
        "RESOURCE_NOT_FOUND",
        "INVALID_RESOURCE_ID",
    )
    assert error.debug_id and not isinstance(error, ProviderUnavailable)
    assert error.debug_id in str(error)  # kept on a failed event row for PayPal's support


def test_a_funding_source_declined_at_capture_fails_the_payment(
    provider, paypal, make_customer, actor
):
    customer = make_customer()
    paypal.next_capture("INSTRUMENT_DECLINED")
    started = _start(customer, "20.00", actor)
    paypal.approve(started.action.url)
    _deliver(paypal)

    payment = Payment.objects.get(pk=started.payment.pk)
    assert (payment.status, payment.failure_reason) == ("failed", "instrument_declined")
    assert not paypal.state.captures and customer_balance(customer).prepaid == 0


def test_a_webhook_paypal_does_not_vouch_for_changes_nothing(
    provider, paypal, make_customer, actor
):
    customer = make_customer()
    started = _start(customer, "20.00", actor)
    paypal.approve(started.action.url)
    paypal.state.verification = "FAILURE"

    for delivery in paypal.state.webhooks:
        with pytest.raises(ForgedEvent):
            events.receive_event(ID, delivery.body, delivery.headers)

    assert not InboundEvent.objects.exists()
    assert Payment.objects.get(pk=started.payment.pk).status == "pending"
    assert paypal.count("POST", "/v2/checkout/orders/", "/capture") == 0
    assert customer_balance(customer).prepaid == 0


def test_a_webhook_for_another_webhook_id_is_forged(
    provider, paypal, make_customer, actor, settings
):
    started = _start(make_customer(), "20.00", actor)
    paypal.approve(started.action.url)
    settings.ENCAISSE_PAYPAL_WEBHOOK_ID = "9XL90610J3647323C"

    (delivery,) = paypal.state.webhooks
    with pytest.raises(ForgedEvent):
        events.receive_event(ID, delivery.body, delivery.headers)
    assert not InboundEvent.objects.exists()


def test_a_refund_made_in_paypal_s_dashboard_is_booked_from_its_event(
    provider, paypal, make_customer, actor, assert_ledger_ok
):
    customer = make_customer()
    started = _start(customer, "30.00", actor)
    paypal.approve(started.action.url)
    _deliver(paypal)
    (capture_id,) = paypal.state.captures
    seen = len(paypal.state.webhooks)
    paypal.refund_at_paypal(capture_id, "12.50")
    _deliver(paypal, seen)
    _deliver(paypal, seen)

    payment = Payment.objects.get(pk=started.payment.pk)
    assert (payment.status, payment.refunded_amount) == ("succeeded", Decimal("12.50"))
    assert customer_balance(customer).prepaid == Decimal("17.50")
    assert_ledger_ok()


def test_the_approval_link_and_the_order_sent(provider, paypal, make_customer, actor):
    started = _start(make_customer(), "19.90", actor)

    assert started.action.kind == "redirect"
    assert started.action.url.startswith("https://www.sandbox.paypal.com/checkoutnow?token=")
    order = paypal.state.orders[started.payment.external_ref]
    assert order["unit"]["amount"] == {"currency_code": "EUR", "value": "19.90"}
    assert order["unit"]["custom_id"] == f"encaisse-payment-{started.payment.pk}"
    assert provider.collects_off_session is False  # no vaulting: not a collection method
