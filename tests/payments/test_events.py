# SPDX-License-Identifier: AGPL-3.0-or-later
"""Stored provider events: handled once, errors kept on the row and retried, strangers ignored."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.utils import timezone

from encaisse.ledger.selectors import customer_balance
from encaisse.payments import events, flows
from encaisse.payments.models import EventStatus, InboundEvent, Payment
from encaisse.payments.providers.base import ProviderEvent
from encaisse.payments.providers.fake import FakeProvider


def _webhook(fake, **body):
    raw = json.dumps({"id": "evt_x", "type": "payment.succeeded", **body}).encode()
    return raw, fake.sign(raw)


def test_an_event_about_no_payment_of_ours_is_stored_and_ignored(fake, db):
    raw, headers = _webhook(fake, payment="pi_of_another_app")
    event = events.handle_event(events.receive_event("fake", raw, headers))
    assert event.status == EventStatus.IGNORED
    assert "pi_of_another_app" in event.error
    assert event.processed_at is not None
    assert not [call for call in fake.outbox if call.operation == "fetch"]


def test_an_event_of_no_payment_at_all_is_ignored_silently(fake, db):
    raw, headers = _webhook(fake)
    event = events.handle_event(events.receive_event("fake", raw, headers))
    assert (event.status, event.error) == (EventStatus.IGNORED, "")


def test_a_redelivered_event_is_stored_once_and_not_handled_again(fake, paid_top_up):
    payment = paid_top_up("10.00")
    delivery = fake.webhooks[-1]
    first = events.handle_event(events.receive_event("fake", delivery.body, delivery.headers))
    fetches = len(fake.outbox)
    again = events.handle_event(events.receive_event("fake", delivery.body, delivery.headers))
    assert again.pk == first.pk and again.status == EventStatus.PROCESSED
    assert again.attempts == 1
    assert len(fake.outbox) == fetches  # the provider was not asked again
    assert customer_balance(payment.customer).prepaid == Decimal("10.00")


def test_a_failed_handling_keeps_its_error_and_the_worker_retries_it(
    fake, make_customer, actor, monkeypatch
):
    started = flows.start_top_up(make_customer(), provider="fake", amount="10.00", actor=actor)
    fake.complete(started.payment.external_ref)
    delivery = fake.webhooks[-1]

    def down(self, payment):
        raise ConnectionError("provider down")

    with monkeypatch.context() as patch:
        patch.setattr(FakeProvider, "fetch", down)
        event = events.handle_event(events.receive_event("fake", delivery.body, delivery.headers))
    assert event.status == EventStatus.FAILED
    assert event.error == "ConnectionError: provider down"
    assert customer_balance(started.payment.customer).prepaid == 0

    assert events.handle_pending_events() == 1
    event.refresh_from_db()
    assert (event.status, event.error, event.attempts) == (EventStatus.PROCESSED, "", 2)
    assert customer_balance(started.payment.customer).prepaid == Decimal("10.00")


def test_the_worker_gives_up_after_the_last_attempt(fake, make_customer, actor, monkeypatch):
    started = flows.start_top_up(make_customer(), provider="fake", amount="10.00", actor=actor)
    delivery = fake.webhooks[-1]
    monkeypatch.setattr(FakeProvider, "fetch", lambda self, payment: 1 / 0)
    events.handle_event(events.receive_event("fake", delivery.body, delivery.headers))
    for _ in range(events.MAX_ATTEMPTS + 2):
        events.handle_pending_events()
    event = InboundEvent.objects.get()
    assert (event.status, event.attempts) == (EventStatus.FAILED, events.MAX_ATTEMPTS)
    assert "ZeroDivisionError" in event.error
    assert Payment.objects.get(pk=started.payment.pk).status == "pending"


def test_a_provider_payment_of_another_amount_credits_nothing(
    fake, make_customer, actor, assert_ledger_ok
):
    started = flows.start_top_up(make_customer(), provider="fake", amount="10.00", actor=actor)
    fake.charges[started.payment.external_ref].amount = Decimal("100.00")
    fake.complete(started.payment.external_ref)
    delivery = fake.webhooks[-1]
    event = events.handle_event(events.receive_event("fake", delivery.body, delivery.headers))
    assert event.status == EventStatus.FAILED and "ProviderMismatch" in event.error
    assert customer_balance(started.payment.customer).prepaid == 0
    assert_ledger_ok()


def test_an_event_naming_our_payment_id_finds_it_without_a_reference(fake, make_customer, actor):
    payment = Payment.objects.create(
        customer=make_customer(), provider="fake", amount=Decimal("5.00")
    )
    stored, created = events.store_event(
        FakeProvider(), ProviderEvent("evt_9", "payment.created", {}, payment_id=payment.pk)
    )
    assert created and stored.payment == payment
    other, created = events.store_event(
        FakeProvider(), ProviderEvent("evt_9", "payment.created", {}, payment_id=payment.pk)
    )
    assert not created and other.pk == stored.pk


def test_events_of_a_provider_not_configured_are_refused(db):
    with pytest.raises(LookupError):
        events.receive_event("nobody", b"{}", {})
    assert not InboundEvent.objects.exists()


def test_an_event_another_handler_holds_is_left_to_it(fake, make_customer, actor):
    flows.start_top_up(make_customer(), provider="fake", amount="10.00", actor=actor)
    delivery = fake.webhooks[-1]
    stored = events.receive_event("fake", delivery.body, delivery.headers)
    InboundEvent.objects.filter(pk=stored.pk).update(claimed_until=timezone.now() + events.CLAIM)
    fetches = len(fake.outbox)

    assert events.handle_event(stored).status == EventStatus.RECEIVED
    assert events.handle_pending_events() == 0
    assert len(fake.outbox) == fetches
