# SPDX-License-Identifier: AGPL-3.0-or-later
"""Providers chosen by settings, their registry, and the rules around calling them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import translation

from encaisse.core.registry import DuplicateIdentifier
from encaisse.payments import flows, providers
from encaisse.payments.collection import registry as collection_methods
from encaisse.payments.exceptions import RefundRefused
from encaisse.payments.providers.base import PaymentProvider
from encaisse.payments.providers.collection import ProviderCollection, install
from encaisse.payments.providers.fake import FakeProvider
from encaisse.payments.selectors import method_label

FAKE = "encaisse.payments.providers.fake.FakeProvider"


class CardNamedLikeAMethod(FakeProvider):
    identifier = "card"


class NoRefunds(FakeProvider):
    identifier = "norefunds"
    supports_refunds = False
    collects_off_session = False


def test_no_provider_is_configured_by_default(settings):
    del settings.ENCAISSE_PAYMENT_PROVIDERS
    assert providers.configured_paths() == []


def test_the_fake_is_a_provider_and_an_automatic_collection_method(fake):
    provider = providers.get("fake")
    assert isinstance(provider, PaymentProvider) and provider.test_mode
    method = collection_methods.get("fake")
    assert isinstance(method, ProviderCollection) and method.collects_without_customer


def test_reconfiguring_removes_the_collection_methods_of_former_providers(fake):
    install([])
    assert "fake" not in providers.registry
    assert "fake" not in collection_methods
    assert "prepaid_balance" in collection_methods


@pytest.mark.parametrize(
    "paths",
    [
        ["tests.payments.test_providers.CardNamedLikeAMethod"],
        ["encaisse.payments.models.Payment"],
    ],
)
def test_a_misconfigured_provider_is_refused_at_start_up(paths):
    with pytest.raises(ImproperlyConfigured):
        providers.configure(paths)


def test_two_providers_under_one_identifier_are_refused(fake):
    with pytest.raises(DuplicateIdentifier):
        providers.configure([FAKE, FAKE])
    install([FAKE])


def test_a_provider_is_never_called_inside_a_transaction(fake, make_customer, actor):
    customer = make_customer()
    with pytest.raises(RuntimeError), transaction.atomic():
        flows.start_top_up(customer, provider="fake", amount="5.00", actor=actor)
    assert not fake.outbox


def test_refunds_are_refused_when_not_possible(fake, paid_top_up, actor, settings):
    payment = paid_top_up("10.00")
    with pytest.raises(RefundRefused):
        flows.request_refund(payment, amount=Decimal("10.01"), reason="too much", actor=actor)
    settings.ENCAISSE_PAYMENT_PROVIDERS = ["tests.payments.test_providers.NoRefunds"]
    install()
    payment.provider = "norefunds"
    with pytest.raises(RefundRefused):
        flows.request_refund(payment, amount=Decimal("1.00"), reason="no", actor=actor)
    assert not [call for call in fake.outbox if call.operation == "refund"]


def test_a_top_up_names_its_method_or_its_provider(fake):
    with translation.override("en"):
        assert method_label("bank_transfer") == "Bank transfer"
        assert method_label("fake") == "Fake payment provider (tests)"
    assert method_label("gone") == "gone"
