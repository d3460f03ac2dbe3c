# SPDX-License-Identifier: AGPL-3.0-or-later
"""PayPal top-ups through Orders v2 (create, approve, capture), refunds and verified webhooks.

Enable it by listing ``encaisse.payments.providers.paypal.PayPalProvider`` in
``ENCAISSE_PAYMENT_PROVIDERS``; configure ``ENCAISSE_PAYPAL_CLIENT_ID``,
``ENCAISSE_PAYPAL_CLIENT_SECRET``, ``ENCAISSE_PAYPAL_WEBHOOK_ID`` and ``ENCAISSE_PAYPAL_API_URL``
(default: the sandbox). ``client.py`` alone talks HTTP to PayPal; ``provider.py`` translates.
It is not a Django app: it needs no models.
"""

from .provider import PayPalProvider

__all__ = ["PayPalProvider"]
