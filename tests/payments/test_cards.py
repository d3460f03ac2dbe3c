# SPDX-License-Identifier: AGPL-3.0-or-later
"""Saved cards: the networks we take, one automatic-debit card per customer, removal."""

from __future__ import annotations

import doctest

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from encaisse.payments import cards
from encaisse.payments.exceptions import CardRefused
from encaisse.payments.models import CardNetwork, SavedCard
from encaisse.payments.providers.base import ProviderCard

pytestmark = pytest.mark.django_db


def card(ref: str = "pm_1", networks: tuple[str, ...] = ("visa",), **kw: object) -> ProviderCard:
    values: dict = {"last4": "4242", "exp_month": 12, "exp_year": 2030, **kw}
    return ProviderCard(reference=ref, networks=networks, **values)


def test_doctests_hold():
    assert doctest.testmod(cards, optionflags=doctest.ELLIPSIS).failed == 0


@pytest.mark.parametrize("network", ["amex", "discover", "jcb", "unionpay", ""])
def test_other_networks_are_refused_with_their_name(network):
    with pytest.raises(CardRefused) as refused:
        cards.accepted((network,) if network else ())
    with translation.override("en"):
        assert "CB, Visa and Mastercard" in str(refused.value)
        assert cards.network_name(network or "?") in str(refused.value)


def test_refused_card_names_the_brand_in_french():
    with pytest.raises(CardRefused) as refused:
        cards.accepted(("amex",))
    with translation.override("fr"):
        assert "American Express" in str(refused.value)
        assert "n'est pas acceptée" in str(refused.value)


def test_saving_is_idempotent_and_takes_automatic_debit(make_customer, actor):
    customer = make_customer()
    first = cards.save_card(customer, card("pm_1"), provider="stripe", actor=actor)
    again = cards.save_card(customer, card("pm_1"), provider="stripe", actor=actor)
    assert first.pk == again.pk and again.for_automatic_debit
    second = cards.save_card(
        customer, card("pm_2", ("cartes_bancaires", "mastercard")), provider="stripe", actor=actor
    )
    assert second.network == CardNetwork.CB  # pre-selected, the holder may change it
    assert cards.automatic_debit_card(customer, "stripe") == second
    assert [c.pk for c in cards.active_cards(customer)] == [second.pk, first.pk]
    chosen = cards.choose_network(second, "mastercard", actor=actor)
    assert chosen.network == CardNetwork.MASTERCARD
    with pytest.raises(CardRefused):
        cards.choose_network(first, "cartes_bancaires", actor=actor)  # not on that card


def test_a_card_of_another_customer_is_refused(make_customer, actor):
    mine, theirs = make_customer(), make_customer()
    cards.save_card(mine, card("pm_1"), provider="stripe", actor=actor)
    with translation.override("en"), pytest.raises(Exception, match="another account"):
        cards.save_card(theirs, card("pm_1"), provider="stripe", actor=actor)


def test_the_database_keeps_one_automatic_debit_card(make_customer, actor):
    customer = make_customer()
    cards.save_card(customer, card("pm_1"), provider="stripe", actor=actor)
    with pytest.raises(IntegrityError), transaction.atomic():
        SavedCard.objects.create(
            customer=customer,
            provider="stripe",
            external_ref="pm_x",
            network="visa",
            networks="visa",
            last4="1111",
            exp_month=1,
            exp_year=2031,
            for_automatic_debit=True,
        )


def test_removed_card_is_kept_and_no_longer_debited(make_customer, actor):
    customer = make_customer()
    saved = cards.save_card(customer, card("pm_1"), provider="stripe", actor=actor)
    removed, was_active = cards.mark_removed(saved, actor=actor)
    assert was_active and removed.removed_at is not None
    assert cards.automatic_debit_card(customer, "stripe") is None
    assert cards.mark_removed(removed, actor=actor)[1] is False
    with translation.override("en"), pytest.raises(Exception, match="removed"):
        cards.use_for_automatic_debit(removed, actor=actor)
