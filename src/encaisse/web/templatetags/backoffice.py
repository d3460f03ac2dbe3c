# SPDX-License-Identifier: AGPL-3.0-or-later
"""Template filters of the back-office: amounts and dates in the reader's language.

The same Babel :class:`~encaisse.invoicing.pdf.Formatter` as the invoice PDFs, so staff read
"1 234,56 €" in French and "€1,234.56" in English, as on the invoices they send.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template
from django.conf import settings
from django.utils import timezone, translation

from encaisse.invoicing.pdf import BABEL_LOCALES, Formatter

register = template.Library()


def _formatter() -> Formatter:
    language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
    return Formatter(BABEL_LOCALES.get(language, "fr_FR"), settings.ENCAISSE_CURRENCY)


@register.filter
def amount(value: Decimal | None) -> str:
    return _formatter().money(value)


@register.filter
def signed_amount(value: Decimal | None) -> str:
    """A change with its sign always written: "+50,00 €", "−12,00 €" (a true minus sign)."""
    number = Decimal(value or 0)
    text = _formatter().money(abs(number))
    return f"+{text}" if number > 0 else (f"\u2212{text}" if number < 0 else text)


@register.filter
def day(value: dt.date | dt.datetime | None) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return _formatter().date(value, "medium")
