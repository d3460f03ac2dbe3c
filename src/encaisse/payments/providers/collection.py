# SPDX-License-Identifier: AGPL-3.0-or-later
"""Providers that collect off-session are collection methods of the policy.

:class:`ProviderCollection` claims the collection inside the policy's transaction (a pending
payment for what is due) and asks the provider only once that transaction committed, from the
worker (``tasks.collect_payment``): a rollback then never leaves a charge behind, and no network
call holds the database. :func:`install` fills both registries from the settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from encaisse.core.actors import Actor
from encaisse.core.background import enqueue_with_the_transaction
from encaisse.invoicing.models import Invoice

from .. import cards, collection, providers, tasks, transitions
from ..models import Payment
from .base import PaymentProvider


class ProviderCollection(collection.CollectionMethod):
    collects_without_customer = True

    def __init__(self, provider: PaymentProvider) -> None:
        self.provider = provider
        self.identifier = provider.identifier
        self.verbose_name = provider.verbose_name

    def collect(self, invoice: Invoice, *, actor: Actor) -> Payment | None:
        card = None
        if self.provider.saves_cards:
            # Only a customer who chose a card for automatic debit is debited by card.
            card = cards.automatic_debit_card(invoice.customer, self.identifier)
            if card is None:
                return None
        payment = transitions.open_payment(
            invoice.customer,
            provider=self.identifier,
            amount=invoice.amount_due,
            actor=actor,
            invoice=invoice,
            card=card,
        )
        enqueue_with_the_transaction(partial(tasks.collect_payment.enqueue, payment.pk))
        return payment


def install(paths: Iterable[str] | None = None) -> None:
    """Configure the providers (default: ``ENCAISSE_PAYMENT_PROVIDERS``) and register those
    that collect off-session as collection methods, replacing the previous ones."""
    for method in collection.registry:
        if isinstance(method, ProviderCollection):
            collection.registry.unregister(method.identifier)
    for provider in providers.configure(paths):
        if provider.collects_off_session:
            collection.registry.register(ProviderCollection(provider))
