# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fixtures of the payments tests: the fake provider, chosen by settings as a deployment would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

from encaisse.payments import flows
from encaisse.payments.models import Payment
from encaisse.payments.providers import configured_paths
from encaisse.payments.providers.collection import install
from encaisse.payments.providers.fake import client

FAKE = "encaisse.payments.providers.fake.FakeProvider"


@pytest.fixture
def fake(settings: Any) -> Iterator[ModuleType]:
    """The fake provider alone in ``ENCAISSE_PAYMENT_PROVIDERS``; yields its service
    (``client``: outbox, webhooks, script…), emptied before and after the test."""
    previous = configured_paths()
    settings.ENCAISSE_PAYMENT_PROVIDERS = [FAKE]
    install()
    client.reset()
    yield client
    client.reset()
    install(previous)


@pytest.fixture
def paid_top_up(fake: ModuleType, make_customer: Any, actor: Any) -> Callable[..., Payment]:
    """``paid_top_up("30.00", customer=None)``: a fake top-up completed, re-read and credited."""

    def make(amount: str = "30.00", customer: Any = None) -> Payment:
        started = flows.start_top_up(
            customer or make_customer(), provider="fake", amount=Decimal(amount), actor=actor
        )
        fake.complete(started.payment.external_ref)
        return flows.refresh_payment(started.payment, actor=actor)

    return make
