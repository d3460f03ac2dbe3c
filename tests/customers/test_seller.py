# SPDX-License-Identifier: AGPL-3.0-or-later
"""The seller's legal identity: validated like a customer's, required under production settings.

The end-to-end side (``encaisse check --deploy`` in a subprocess, the web process refusing to start)
is in tests/test_deployment.py.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from encaisse.customers import checks
from encaisse.customers.seller import Seller, current_seller, validate

EXAMPLE = {
    "name": "Hébergeur Exemple SAS",
    "legal_form": "SAS au capital de 10 000 €, RCS Paris 732 829 320",
    "address_line1": "12 rue de l'Exemple",
    "address_line2": "",
    "postal_code": "75011",
    "city": "Paris",
    "country": "FR",
    "siret": "73282932000074",
    "vat_number": "FR44732829320",
    "iban": "FR7630006000011234567890189",
    "bic": "AGRIFRPPXXX",
    "email": "facturation@example.invalid",
}
VARIABLES = {key: f"ENCAISSE_SELLER_{key.upper()}" for key in EXAMPLE} | {
    "vat_number": "ENCAISSE_SELLER_VAT"
}


def _problems(**overrides: str) -> list[str]:
    return [str(problem) for problem in validate(EXAMPLE | overrides, VARIABLES)[1]]


def test_the_development_settings_hold_the_valid_example_seller(settings):
    assert settings.ENCAISSE_SELLER == EXAMPLE
    assert settings.ENCAISSE_SELLER_VARIABLES == VARIABLES
    assert _problems() == []


def test_every_missing_part_is_named_by_its_variable_except_the_second_address_line():
    empty = dict.fromkeys(EXAMPLE, "")

    problems = [str(problem) for problem in validate(empty, VARIABLES)[1]]

    expected = [f"{VARIABLES[key]} is missing" for key in EXAMPLE if key != "address_line2"]
    assert problems == expected


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("siret", "73282932000075", "is not a valid SIRET number"),
        ("vat_number", "FR32732829320", "is not a valid EU VAT number"),
        ("iban", "FR7630006000011234567890188", "is not a valid IBAN"),
        ("bic", "AGRI", "is not a valid BIC"),
        ("postal_code", "7501", "is not a valid postal code for FR"),
        ("country", "XX", "is not an ISO 3166 country code"),
        ("email", "facturation", "is not a valid e-mail address"),
    ],
)
def test_an_invalid_value_is_named_with_the_customers_validator_message(key, value, message):
    [problem] = _problems(**{key: value})
    assert problem.startswith(f"{VARIABLES[key]}: “{value}” {message}")


def test_messages_are_in_english_for_the_operator_whatever_the_language():
    with translation.override("fr"):
        assert _problems(iban="FR00") == ["ENCAISSE_SELLER_IBAN: “FR00” is not a valid IBAN."]


def test_a_french_vat_number_of_another_company_than_the_siret_is_refused():
    other = "FR40303265045"  # a valid VAT number, derived from SIREN 303 265 045

    assert _problems(vat_number=other) == [
        f"ENCAISSE_SELLER_VAT: “{other}” is not the VAT number of SIREN 732829320 "
        "(ENCAISSE_SELLER_SIRET)."
    ]


def test_identifiers_are_kept_in_their_standard_compact_form():
    seller, problems = validate(
        EXAMPLE
        | {
            "iban": "fr76 3000 6000 0112 3456 7890 189",
            "bic": "agrifrpp",
            "siret": "732 829 320 00074",
        },
        VARIABLES,
    )

    assert problems == []
    assert (seller.iban, seller.bic, seller.siret) == (
        "FR7630006000011234567890189",
        "AGRIFRPP",
        "73282932000074",
    )
    assert seller.siren == "732829320"


def test_the_address_reads_on_one_line_with_the_country_in_the_reader_language():
    seller = Seller(
        **EXAMPLE | {"address_line2": "Bâtiment B", "country": "BE", "postal_code": "1000"}
    )

    with translation.override("fr"):
        assert seller.address == "12 rue de l'Exemple, Bâtiment B, 1000 Paris, Belgique"
    with translation.override("en"):
        assert seller.address_lines[-1] == "Belgium"


def test_the_example_seller_is_served_outside_production(settings):
    settings.ENCAISSE_SELLER = EXAMPLE | {"iban": "not an iban"}

    assert current_seller().iban == "not an iban"  # shown as set: development only


def test_production_refuses_to_hand_out_an_incomplete_seller(settings):
    settings.PRODUCTION = True
    settings.ENCAISSE_SELLER = EXAMPLE | {"iban": "", "siret": "123"}

    with pytest.raises(ImproperlyConfigured) as refused:
        current_seller()

    assert "ENCAISSE_SELLER_IBAN is missing" in str(refused.value)
    assert "ENCAISSE_SELLER_SIRET: “123” is not a valid SIRET number" in str(refused.value)
    settings.ENCAISSE_SELLER = EXAMPLE
    assert current_seller().name == EXAMPLE["name"]


def test_the_check_gives_one_error_per_variable_with_a_stable_id(settings, monkeypatch):
    monkeypatch.delenv("ENCAISSE_SELLER_ADDRESS", raising=False)
    settings.ENCAISSE_SELLER = EXAMPLE | {"iban": "", "bic": "", "siret": "123"}

    messages = checks.seller_identity()

    assert [(m.id, m.msg.split(" ")[0].rstrip(":")) for m in messages] == [
        ("customers.E002", "ENCAISSE_SELLER_SIRET"),
        ("customers.E001", "ENCAISSE_SELLER_IBAN"),
        ("customers.E001", "ENCAISSE_SELLER_BIC"),
    ]
    assert all(m.is_serious() for m in messages)


def test_the_check_warns_that_the_one_line_address_is_no_longer_read(monkeypatch):
    monkeypatch.setenv("ENCAISSE_SELLER_ADDRESS", "12 rue de l'Exemple, 75011 Paris")

    [message] = checks.seller_identity()

    assert message.id == "customers.W001"
    assert "ENCAISSE_SELLER_POSTAL_CODE" in message.hint
    assert not message.is_serious()
