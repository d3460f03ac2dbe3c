# SPDX-License-Identifier: AGPL-3.0-or-later
from decimal import Decimal

import pytest
from django.utils import translation

from encaisse.core.exceptions import ValidationError
from encaisse.customers import numbers
from encaisse.customers.models import Customer
from encaisse.ledger.models import Account


def test_new_customer_gets_a_checked_number_and_two_accounts(make_customer):
    customer = make_customer(overdraft=Decimal("25"))
    assert numbers.is_valid(customer.number)
    accounts = {a.kind: a for a in Account.objects.filter(customer=customer)}
    assert set(accounts) == {"prepaid", "receivable"}
    assert accounts["prepaid"].floor == Decimal("-25.00")
    assert accounts["receivable"].floor is None


def test_a_single_typo_in_a_customer_number_is_detected(make_customer):
    number = make_customer().number
    for position in range(1, len(number)):
        digit = number[position]
        typo = number[:position] + str((int(digit) + 1) % 10) + number[position + 1 :]
        assert not numbers.is_valid(typo)
    swapped = number[0] + number[2] + number[1] + number[3:]
    assert swapped == number or not numbers.is_valid(swapped)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"siret": "73282932000075"}, "SIRET"),
        ({"vat_number": "FR32732829320"}, "VAT"),
        ({"postal_code": "7500"}, "postal code"),
        ({"country": "XX"}, "country"),
        ({"email": "not-an-email"}, "e-mail"),
        ({"kind": "public_body", "siret": ""}, "SIRET"),
        ({"name": "  "}, "name"),
    ],
)
def test_invalid_identity_is_refused_with_a_clear_message_and_nothing_is_created(
    make_customer, overrides, fragment
):
    before = Customer.objects.count()
    with translation.override("en"):
        with pytest.raises(ValidationError) as error:
            make_customer(**overrides)
        assert fragment in str(error.value)  # the message is lazy: read it in English
    assert Customer.objects.count() == before


def test_messages_are_translated_to_french(make_customer):
    with translation.override("fr"), pytest.raises(ValidationError) as error:
        make_customer(siret="73282932000075")
    assert "SIRET" in str(error.value)


def test_valid_french_identifiers_are_accepted_and_normalised(make_customer):
    customer = make_customer(siret="732 829 320 00074", vat_number="fr 44 732829320")
    assert customer.siret == "73282932000074"
    assert customer.vat_number == "FR44732829320"
    assert customer.siren == "732829320"


@pytest.mark.parametrize("overdraft", [Decimal("-1"), Decimal("0.001"), "abc"])
def test_a_negative_or_malformed_overdraft_is_refused(make_customer, overdraft):
    before = Customer.objects.count()
    with pytest.raises(ValidationError):
        make_customer(overdraft=overdraft)
    assert Customer.objects.count() == before
