# SPDX-License-Identifier: AGPL-3.0-or-later
"""The fake provider passes the contract of every provider, and does what tests ask of it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tests.payments.contract import PaymentProviderContract, Webhook

from encaisse.ledger.selectors import customer_balance
from encaisse.payments import events, flows
from encaisse.payments.exceptions import ForgedEvent
from encaisse.payments.models import Payment
from encaisse.payments.providers.base import StartedTopUp
from encaisse.payments.providers.fake import client


class TestFakeProvider(PaymentProviderContract):
    provider_path = "encaisse.payments.providers.fake.FakeProvider"

    def reset_provider(self) -> None:
        client.reset()
        self._delivered = 0

    def customer_completes(self, started: StartedTopUp) -> None:
        client.complete(started.payment.external_ref)

    def enable_off_session(self, customer: Any, *, declines: bool = False) -> None:
        if declines:
            client.script(client.Outcome.DECLINE)

    def sent_webhooks(self) -> list[Webhook]:
        new = client.webhooks[self._delivered :]
        self._delivered = len(client.webhooks)
        return [(delivery.body, delivery.headers) for delivery in new]


def _deliver_all() -> None:
    for delivery in list(client.webhooks):
        events.handle_event(events.receive_event("fake", delivery.body, delivery.headers))


def test_the_fake_records_what_it_was_asked(fake, make_customer, actor):
    started = flows.start_top_up(make_customer(), provider="fake", amount="12.00", actor=actor)
    fake.complete(started.payment.external_ref)
    _deliver_all()

    assert [(call.operation, call.amount) for call in fake.outbox][:1] == [
        ("create", Decimal("12.00"))
    ]
    assert {call.operation for call in fake.outbox} == {"create", "fetch"}
    assert started.action.url.endswith(started.payment.external_ref)


def test_an_authentication_then_success_goes_through_requires_action(fake, make_customer, actor):
    customer = make_customer()
    fake.script(fake.Outcome.REQUIRE_ACTION)
    started = flows.start_top_up(customer, provider="fake", amount="20.00", actor=actor)
    fake.complete(started.payment.external_ref)
    _deliver_all()
    payment = Payment.objects.get(pk=started.payment.pk)
    assert payment.status == "requires_action"

    fake.complete(started.payment.external_ref)  # the customer authenticates
    _deliver_all()
    payment.refresh_from_db()
    assert payment.status == "succeeded"


def test_a_lost_dispute_reverses_the_top_up_and_a_won_one_changes_nothing(
    fake, make_customer, actor, assert_ledger_ok
):
    won, lost = make_customer(), make_customer()
    payments = {}
    for customer in (won, lost):
        started = flows.start_top_up(customer, provider="fake", amount="30.00", actor=actor)
        fake.complete(started.payment.external_ref)
        payments[customer.pk] = started.payment
    for customer in (won, lost):
        fake.open_dispute(payments[customer.pk].external_ref)
    _deliver_all()
    assert {p.status for p in Payment.objects.all()} == {"disputed"}
    assert customer_balance(lost).prepaid == Decimal("30.00")  # nothing moves while open

    fake.close_dispute(payments[won.pk].external_ref, won=True)
    fake.close_dispute(payments[lost.pk].external_ref, won=False)
    _deliver_all()

    assert Payment.objects.get(pk=payments[won.pk].pk).status == "succeeded"
    assert Payment.objects.get(pk=payments[lost.pk].pk).status == "refunded"
    assert customer_balance(won).prepaid == Decimal("30.00")
    assert customer_balance(lost).prepaid == Decimal("0.00")
    assert_ledger_ok()


def test_a_refund_made_at_the_provider_is_booked_from_its_event(
    fake, make_customer, actor, assert_ledger_ok
):
    customer = make_customer()
    started = flows.start_top_up(customer, provider="fake", amount="30.00", actor=actor)
    fake.complete(started.payment.external_ref)
    fake.refund_at_provider(started.payment.external_ref, Decimal("12.50"))
    _deliver_all()
    _deliver_all()

    payment = Payment.objects.get(pk=started.payment.pk)
    assert (payment.status, payment.refunded_amount) == ("succeeded", Decimal("12.50"))
    assert customer_balance(customer).prepaid == Decimal("17.50")
    assert_ledger_ok()


def test_an_event_signed_with_another_secret_is_forged(fake):
    body = b'{"id": "evt_1", "type": "payment.succeeded", "payment": "fake_pay_1"}'
    with pytest.raises(ForgedEvent):
        events.receive_event("fake", body, fake.sign(body, b"not-the-secret"))
