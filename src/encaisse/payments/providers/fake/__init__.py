# SPDX-License-Identifier: AGPL-3.0-or-later
"""A fake payment provider for tests, shipped like Django's ``locmem`` e-mail backend.

Use: list ``encaisse.payments.providers.fake.FakeProvider`` in ``ENCAISSE_PAYMENT_PROVIDERS``
(and ``fake`` in ``ENCAISSE_COLLECTION_POLICY`` for automatic debit), call
:func:`client.reset` around each test, script outcomes with :func:`client.script`, and deliver
:data:`client.webhooks` through ``payments.events.receive_event``. It is not a Django app: it
needs no models.
"""

from .provider import FakeProvider

__all__ = ["FakeProvider"]
