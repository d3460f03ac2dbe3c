# SPDX-License-Identifier: AGPL-3.0-or-later
"""Validation of legal identifiers and addresses, with translated messages.

Identifiers are checked with python-stdnum (SIRET: Luhn over 14 digits, INSEE; EU VAT numbers:
per-country check digits, and for France the key derived from the SIREN; IBAN: ISO 13616 mod-97
check digits and the country's length and format; BIC: ISO 9362 layout and country). The seller's
own identity (``customers/seller.py``) goes through these same functions. Addresses are structured
(street, postal code, town, country) because SEPA requires structured addresses from November 2026
and Factur-X/Chorus Pro need the parts separately.
"""

from __future__ import annotations

import re

from babel import Locale
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _
from stdnum import bic, iban
from stdnum import exceptions as stdnum_exceptions
from stdnum.eu import vat
from stdnum.fr import siret

from encaisse.core.exceptions import ValidationError

_COUNTRIES = frozenset(
    str(code) for code in Locale("en").territories if re.fullmatch(r"[A-Z]{2}", str(code))
)
_POSTAL_CODES = {
    "FR": re.compile(r"^\d{5}$"),
    "BE": re.compile(r"^\d{4}$"),
    "DE": re.compile(r"^\d{5}$"),
    "ES": re.compile(r"^\d{5}$"),
    "IT": re.compile(r"^\d{5}$"),
    "CH": re.compile(r"^\d{4}$"),
    "LU": re.compile(r"^(L-)?\d{4}$"),
    "NL": re.compile(r"^\d{4} ?[A-Z]{2}$"),
}


def clean_siret(value: str) -> str:
    try:
        return siret.validate(value)
    except stdnum_exceptions.ValidationError as exc:
        raise ValidationError(
            _("“%(value)s” is not a valid SIRET number (14 digits with a valid check key)."),
            value=value,
        ) from exc


def clean_vat_number(value: str) -> str:
    try:
        return vat.validate(value)
    except stdnum_exceptions.ValidationError as exc:
        raise ValidationError(_("“%(value)s” is not a valid EU VAT number."), value=value) from exc


def clean_iban(value: str) -> str:
    """The IBAN in its compact form (no spaces, upper case), as EPC QR codes and SEPA files need."""
    try:
        return iban.validate(value)
    except stdnum_exceptions.ValidationError as exc:
        raise ValidationError(_("“%(value)s” is not a valid IBAN."), value=value) from exc


def clean_bic(value: str) -> str:
    try:
        return bic.validate(value)
    except stdnum_exceptions.ValidationError as exc:
        raise ValidationError(_("“%(value)s” is not a valid BIC."), value=value) from exc


def clean_email(value: str) -> str:
    address = (value or "").strip()
    try:
        validate_email(address)
    except DjangoValidationError as exc:
        raise ValidationError(_("“%(value)s” is not a valid e-mail address."), value=value) from exc
    return address


def clean_country(value: str) -> str:
    code = (value or "").strip().upper()
    if code not in _COUNTRIES:
        raise ValidationError(_("“%(value)s” is not an ISO 3166 country code."), value=value)
    return code


def clean_postal_code(value: str, country: str) -> str:
    code = (value or "").strip().upper()
    pattern = _POSTAL_CODES.get(country)
    if not code or (pattern is not None and not pattern.match(code)):
        raise ValidationError(
            _("“%(value)s” is not a valid postal code for %(country)s."),
            value=value,
            country=country,
        )
    return code


_SERVICE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,99}$")


def clean_service_code(value: str) -> str:
    """A Chorus Pro service code ("code service", BT-10): up to 100 letters, digits, ``._/-``.

    The code is the administration's own; whether it exists is checked against Chorus Pro's
    service list by the Chorus Pro integration, not here.
    """
    code = (value or "").strip()
    if not _SERVICE_CODE.match(code):
        raise ValidationError(
            _(
                "“%(value)s” is not a valid service code (up to 100 letters, digits, spaces "
                "and . _ / -)."
            ),
            value=value,
        )
    return code
