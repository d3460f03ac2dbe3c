# SPDX-License-Identifier: AGPL-3.0-or-later
"""The seller: the provider's own legal identity, printed on invoices and the panel's transfer page.

It lives beside the customers because it is the same kind of identity (name, structured address,
SIRET, VAT number) and must pass the same validators (:mod:`encaisse.customers.validators`), plus
the bank details customers pay to (IBAN, BIC). The values come from ``settings.ENCAISSE_SELLER``,
one ``ENCAISSE_SELLER_*`` environment variable per key (``settings.ENCAISSE_SELLER_VARIABLES``).

Outside production the settings fill an example company in. Production has no default, so an
incomplete identity must never reach a page or a document: :func:`validate` lists every missing or
invalid variable for the deployment check (``customers/checks.py``), and :func:`current_seller`
refuses to hand out an invalid seller under production settings (the web process calls it at start).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

from babel import Locale
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from encaisse.core.exceptions import ValidationError

from . import validators

OPTIONAL = frozenset({"address_line2"})


@dataclass(frozen=True)
class Seller:
    """The seller as templates show it: ``{{ seller.name }}``, ``{{ seller.address }}``..."""

    name: str
    legal_form: str  # legal form, share capital and RCS registration (Code de commerce R123-238)
    address_line1: str
    address_line2: str
    postal_code: str
    city: str
    country: str
    siret: str
    vat_number: str
    iban: str
    bic: str
    email: str

    @property
    def siren(self) -> str:
        """The company's SIREN (Factur-X BT-30, scheme 0002): the first nine digits of its SIRET."""
        return self.siret[:9]

    @property
    def address_lines(self) -> list[str]:
        """Street, complement, postal code and town, country named in the active language."""
        language = translation.get_language() or settings.LANGUAGE_CODE
        territories = Locale.parse(translation.to_locale(language)).territories
        town = f"{self.postal_code} {self.city}".strip()
        country = territories.get(self.country, self.country)
        return [line for line in (self.address_line1, self.address_line2, town, country) if line]

    @property
    def address(self) -> str:
        return ", ".join(self.address_lines)


@dataclass(frozen=True)
class Problem:
    """What is wrong with one variable, named so the operator knows what to set."""

    variable: str
    message: str = ""  # empty when the variable is missing

    @property
    def missing(self) -> bool:
        return not self.message

    def __str__(self) -> str:
        return f"{self.variable}: {self.message}" if self.message else f"{self.variable} is missing"


def _postal_code(value: str, values: Mapping[str, str]) -> str:
    """Checked against the country's format when the country is known (else only non-empty)."""
    return validators.clean_postal_code(value, (values.get("country") or "").strip().upper())


_CLEANERS: dict[str, Callable[[str, Mapping[str, str]], str]] = {
    "postal_code": _postal_code,
    "country": lambda value, _values: validators.clean_country(value),
    "siret": lambda value, _values: validators.clean_siret(value),
    "vat_number": lambda value, _values: validators.clean_vat_number(value),
    "iban": lambda value, _values: validators.clean_iban(value),
    "bic": lambda value, _values: validators.clean_bic(value),
    "email": lambda value, _values: validators.clean_email(value),
}


def validate(
    values: Mapping[str, str], variables: Mapping[str, str]
) -> tuple[Seller, list[Problem]]:
    """The seller with its identifiers in their standard form, and every problem, in field order.

    Messages are in English whatever the active language: they are for the operator, beside
    Django's own system checks. Values that fail stay as given, so a development seller with a
    wrong override still renders.
    """
    cleaned = {f.name: (values.get(f.name) or "").strip() for f in fields(Seller)}
    problems: list[Problem] = []
    with translation.override(None):
        for key, value in cleaned.items():
            variable = variables.get(key, key)
            if not value:
                if key not in OPTIONAL:
                    problems.append(Problem(variable))
            elif key in _CLEANERS:
                try:
                    cleaned[key] = _CLEANERS[key](value, cleaned)
                except ValidationError as exc:
                    problems.append(Problem(variable, str(exc)))
    seller = Seller(**cleaned)
    problems += _vat_number_of_another_company(seller, problems, variables)
    return seller, problems


def _vat_number_of_another_company(
    seller: Seller, problems: list[Problem], variables: Mapping[str, str]
) -> list[Problem]:
    """A French VAT number is derived from the SIREN (FR + key + SIREN): both must name one company."""
    named = {problem.variable for problem in problems}
    vat_variable = variables.get("vat_number", "vat_number")
    siret_variable = variables.get("siret", "siret")
    if vat_variable in named or siret_variable in named or not seller.vat_number.startswith("FR"):
        return []
    if seller.vat_number[4:] == seller.siren:
        return []
    message = (
        f"“{seller.vat_number}” is not the VAT number of SIREN {seller.siren} ({siret_variable})."
    )
    return [Problem(vat_variable, message)]


@functools.lru_cache(maxsize=8)
def _validated(
    items: tuple[tuple[str, str], ...], variables: tuple[tuple[str, str], ...]
) -> tuple[Seller, tuple[Problem, ...]]:
    seller, problems = validate(dict(items), dict(variables))
    return seller, tuple(problems)


def current_seller() -> Seller:
    """The seller to print and show; under production settings, only a complete and valid one.

    Raising here rather than rendering an empty IBAN or SIRET keeps an incomplete identity off the
    transfer page and the (archived, unchangeable) invoice PDFs, should a process such as the task
    worker start without the deployment check. The result is cached per value, so pages pay for
    the validation once.
    """
    seller, problems = _validated(
        tuple(settings.ENCAISSE_SELLER.items()), tuple(settings.ENCAISSE_SELLER_VARIABLES.items())
    )
    if problems and settings.PRODUCTION:
        listed = "\n".join(f"- {problem}" for problem in problems)
        raise ImproperlyConfigured(
            "The seller's legal identity is required when ENCAISSE_ENV=production "
            f"(`encaisse check --deploy` lists the same):\n{listed}"
        )
    return seller
