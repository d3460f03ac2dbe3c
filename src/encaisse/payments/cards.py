# SPDX-License-Identifier: AGPL-3.0-or-later
"""Saved cards: which networks we take, and the services that keep a customer's cards.

The product page takes CB, Visa and MasterCard only, "as the payment provider allows": another
network (American Express, Discover, JCB…) is refused by :func:`accepted` **before any charge**,
whatever the provider would accept (cards-and-paypal.md §1). A co-badged card carries CB and Visa
or Mastercard; its holder chooses the network, at checkout and when the card is saved, and the
choice is honoured for every later charge (IFR, Regulation (EU) 2015/751, art. 8; §2.5): we
pre-select CB when the holder did not choose, and :func:`choose_network` lets them change it.

Only the provider's token and what identifies the card to its holder are stored (brand, last four
digits, expiry). Removing a card marks it removed first, then asks the provider to forget it
(after COMMIT, outside any transaction): a crash in between leaves a card we no longer charge.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.exceptions import ValidationError
from encaisse.customers.models import Customer

from .exceptions import CardRefused
from .models import CardNetwork, SavedCard
from .providers.base import ProviderCard

#: How a network absent from :class:`CardNetwork` is named in the refusal.
NETWORK_NAMES = {
    "amex": "American Express",
    "diners": "Diners Club",
    "discover": "Discover",
    "jcb": "JCB",
    "unionpay": "UnionPay",
    "eftpos_au": "eftpos",
    "interac": "Interac",
}


def network_name(network: str) -> str:
    if network in CardNetwork.values:
        return str(CardNetwork(network).label)
    return NETWORK_NAMES.get(network, network or "?")


def accepted(networks: tuple[str, ...], preferred: str = "") -> CardNetwork:
    """The network a card with ``networks`` is charged on, or ``CardRefused``.

    >>> accepted(("visa",))
    CardNetwork.VISA
    >>> accepted(("cartes_bancaires", "visa"))  # co-badged: CB unless the holder chose
    CardNetwork.CB
    >>> accepted(("cartes_bancaires", "visa"), preferred="visa")
    CardNetwork.VISA
    >>> accepted(("amex",))
    Traceback (most recent call last):
    ...
    encaisse.payments.exceptions.CardRefused: ...
    """
    ours = [CardNetwork(n) for n in networks if n in CardNetwork.values]
    if not ours:
        raise CardRefused(brand=", ".join(network_name(n) for n in networks) or "?")
    if preferred in ours:
        return CardNetwork(preferred)
    return CardNetwork.CB if CardNetwork.CB in ours else ours[0]


def active_cards(customer: Customer) -> list[SavedCard]:
    """The customer's cards not removed, the automatic-debit one first."""
    return list(
        customer.saved_cards.filter(removed_at__isnull=True).order_by(
            "-for_automatic_debit", "-created_at", "-pk"
        )
    )


def automatic_debit_card(customer: Customer, provider: str) -> SavedCard | None:
    return SavedCard.objects.filter(
        customer=customer, provider=provider, for_automatic_debit=True, removed_at__isnull=True
    ).first()


def save_card(
    customer: Customer,
    card: ProviderCard,
    *,
    provider: str,
    actor: Actor,
    automatic_debit: bool = True,
) -> SavedCard:
    """Keep ``card`` (once per provider token: a replayed request finds it); with
    ``automatic_debit`` it becomes the card automatic debit uses. Refuses a network we do not
    take (``CardRefused``)."""
    network = accepted(card.networks, card.preferred)
    with transaction.atomic():
        saved, created = SavedCard.objects.get_or_create(
            provider=provider,
            external_ref=card.reference,
            defaults={
                "customer": customer,
                "network": network,
                "networks": ",".join(card.networks)[:100],
                "last4": card.last4[-4:],
                "exp_month": card.exp_month,
                "exp_year": card.exp_year,
            },
        )
        if saved.customer_id != customer.pk:
            raise ValidationError(_("This card is registered to another account."))
        if created:
            audit.record("encaisse.card.saved", actor=actor, obj=saved, card=str(saved))
        if automatic_debit and saved.is_active and not saved.for_automatic_debit:
            saved = use_for_automatic_debit(saved, actor=actor)
    return saved


def _lock(card: SavedCard) -> SavedCard:
    return SavedCard.objects.select_for_update().get(pk=card.pk)


def use_for_automatic_debit(card: SavedCard, *, actor: Actor) -> SavedCard:
    """Automatic debit uses ``card`` from now on (the previous one stays saved)."""
    with transaction.atomic():
        card = _lock(card)
        if not card.is_active:
            raise ValidationError(_("This card was removed."))
        if card.for_automatic_debit:
            return card
        SavedCard.objects.filter(
            customer_id=card.customer_id, for_automatic_debit=True, removed_at__isnull=True
        ).update(for_automatic_debit=False)
        card.for_automatic_debit = True
        card.save(update_fields=["for_automatic_debit"])
        audit.record("encaisse.card.automatic_debit", actor=actor, obj=card, card=str(card))
    return card


def choose_network(card: SavedCard, network: str, *, actor: Actor) -> SavedCard:
    """The holder of a co-badged card chooses the network of later charges (IFR art. 8)."""
    chosen = accepted(tuple(card.networks.split(",")), network)
    if chosen != network:
        raise CardRefused(brand=network_name(network))
    with transaction.atomic():
        card = _lock(card)
        if card.network != chosen:
            previous, card.network = card.network, chosen
            card.save(update_fields=["network"])
            audit.record(
                "encaisse.card.network", actor=actor, obj=card, before=previous, after=chosen
            )
    return card


def mark_removed(card: SavedCard, *, actor: Actor) -> tuple[SavedCard, bool]:
    """Stop using ``card``; whether it was active. The provider is told by
    ``flows.remove_card`` after this committed."""
    with transaction.atomic():
        card = _lock(card)
        if not card.is_active:
            return card, False
        card.removed_at = timezone.now()
        card.for_automatic_debit = False
        card.save(update_fields=["removed_at", "for_automatic_debit"])
        audit.record("encaisse.card.removed", actor=actor, obj=card, card=str(card))
    return card, True
