# SPDX-License-Identifier: AGPL-3.0-or-later
"""Money, rates, quantities and dates written the way the reader's language writes them.

One formatter for the invoice PDFs, the customer panel and the back-office, so a customer reads on
screen the same "1 234,56 €" as on the paper invoice, and staff read what they send. Babel rather
than Django's localisation: Django localises numbers (decimal and thousands separators) but has no
currency formatting (symbol, its position and spacing per locale: "1 234,56 €" in French,
"€1,234.56" in English), no percentages and no long dates outside the active language; Babel takes
them all from the Unicode CLDR, for any locale, independently of the active translation.

>>> fmt = Formatter("fr_FR", "EUR")
>>> fmt.money(Decimal("1234.5")) == "1\\u202f234,50\\xa0€"
True
>>> Formatter("en_GB", "EUR").money(Decimal("0.0125"))
'€0.0125'
>>> fmt.rate(Decimal("5.5")) == "5,5\\xa0%"
True
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from django.conf import settings
from django.utils import translation

#: Babel locale per customer language: euro amounts written the way the reader expects.
BABEL_LOCALES = {"fr": "fr_FR", "en": "en_GB"}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Formatter:
    """Formats money, rates, quantities and dates for one locale (templates only show strings).

    Frozen, hence hashable: callers may memoise its results per formatter.
    """

    locale: str
    currency: str

    @classmethod
    def active(cls) -> Formatter:
        """For the language of the current request or ``translation.override`` (error messages)."""
        language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
        return cls(BABEL_LOCALES.get(language, BABEL_LOCALES["fr"]), settings.ENCAISSE_CURRENCY)

    def money(self, value: Decimal | str | None) -> str:
        amount = Decimal(value or 0)
        # Unit prices may carry 4 decimals (0.0125 €/GB); show them only when they are used.
        exact = amount != amount.quantize(CENT)
        return format_currency(
            amount if exact else amount.quantize(CENT),
            self.currency,
            locale=self.locale,
            decimal_quantization=not exact,
        )

    def rate(self, value: Decimal | str) -> str:
        return format_percent(Decimal(value) / 100, locale=self.locale, decimal_quantization=False)

    def quantity(self, value: Decimal) -> str:
        return format_decimal(value.normalize(), locale=self.locale, decimal_quantization=False)

    def date(self, value: dt.date | None, length: str = "long") -> str:
        """``length`` is a CLDR length ("medium", "long") or pattern ("MMMM y": "octobre 2026")."""
        return format_date(value, length, locale=self.locale) if value else ""
