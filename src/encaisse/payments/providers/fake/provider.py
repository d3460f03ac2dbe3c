# SPDX-License-Identifier: AGPL-3.0-or-later
"""The fake provider: the contract of :mod:`..base` over the fake service of :mod:`.client`.

Chosen by settings (``encaisse.payments.providers.fake.FakeProvider`` in
``ENCAISSE_PAYMENT_PROVIDERS``) for tests, never in production: it moves no real money and
succeeds unless told otherwise. It is shaped as a real provider will be — ``client.py`` is the
only module that "talks" to the service, this one translates — so it is also the example of a
provider package.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from ... import transitions
from ...exceptions import ForgedEvent, InvalidEvent, ProviderError
from ..base import (
    ActionKind,
    NextAction,
    PaymentProvider,
    ProviderEvent,
    ProviderPayment,
    ProviderRefund,
    StartedTopUp,
)
from . import client

if TYPE_CHECKING:
    from encaisse.core.actors import Actor
    from encaisse.customers.models import Customer

    from ...models import Payment

PAY_URL = "https://fake-provider.invalid/pay/"


class FakeProvider(PaymentProvider):
    identifier = "fake"
    verbose_name = _("Fake payment provider (tests)")
    collects_off_session = True
    supports_refunds = True
    test_mode = True
    #: The webhook signing secret; a test may sign with another to forge an event.
    secret = client.SECRET

    def start_top_up(self, customer: Customer, amount: Decimal, *, actor: Actor) -> StartedTopUp:
        payment = transitions.open_payment(
            customer, provider=self.identifier, amount=amount, actor=actor
        )
        charge = client.create(payment.pk, payment.amount, payment.currency)
        payment = transitions.set_reference(payment, external_ref=charge.reference)
        action = NextAction(ActionKind.REDIRECT, url=f"{PAY_URL}{charge.reference}")
        return StartedTopUp(payment, action)

    def collect(self, payment: Payment) -> ProviderPayment:
        return client.collect(payment.pk, payment.amount, payment.currency).truth()

    def fetch(self, payment: Payment) -> ProviderPayment | None:
        charge = client.find(payment.external_ref, payment.pk)
        return charge.truth() if charge is not None else None

    def refund(self, payment: Payment, amount: Decimal, reason: str) -> ProviderRefund:
        if payment.external_ref not in client.charges:
            raise ProviderError()
        return client.refund(payment.external_ref, amount, reason)

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        given = {name.lower(): value for name, value in headers.items()}
        signature = given.get(client.SIGNATURE_HEADER.lower(), "")
        expected = client.sign(body, self.secret)[client.SIGNATURE_HEADER]
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise ForgedEvent()
        try:
            data = json.loads(body)
            return ProviderEvent(
                event_id=str(data["id"]),
                event_type=str(data["type"]),
                payload=data,
                object_ref=str(data.get("payment", "")),
                payment_id=int(data["payment_id"]) if data.get("payment_id") else None,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidEvent() from exc
