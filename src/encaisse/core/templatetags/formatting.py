# SPDX-License-Identifier: AGPL-3.0-or-later
"""Template filters for money and dates in the reader's language: ``{% load formatting %}``.

Django localises numbers but has no currency formatting, so amounts go through Babel with the
same :class:`~encaisse.core.formatting.Formatter` as the invoice PDFs: the same text in an
e-mail (``notifications``), on screen (``web``, whose ``panel`` library re-exports these) and on
paper. In ``core`` so that every layer's templates may load it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache

from django import template
from django.conf import settings
from django.utils import timezone, translation

from encaisse.core.formatting import BABEL_LOCALES, Formatter

register = template.Library()


def formatter() -> Formatter:
    language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
    return Formatter(BABEL_LOCALES.get(language, "fr_FR"), settings.ENCAISSE_CURRENCY)


# Pure functions of their arguments, memoised: a page of movements repeats the same few amounts
# and dates, and Babel's formatting is the costliest part of rendering it.
@lru_cache(maxsize=8192)
def _money(fmt: Formatter, amount: Decimal) -> str:
    return fmt.money(amount)


@lru_cache(maxsize=4096)
def _date(fmt: Formatter, day: dt.date | None, length: str) -> str:
    return fmt.date(day, length)


@register.filter
def money(value: Decimal | str | None) -> str:
    return _money(formatter(), Decimal(value or 0))


@register.filter
def signed_money(value: Decimal | None) -> str:
    """A movement from the customer's viewpoint: "+50,00 €" credited, "−12,00 €" debited."""
    amount = Decimal(value or 0)
    text = _money(formatter(), abs(amount))
    return f"+{text}" if amount > 0 else (f"\u2212{text}" if amount < 0 else text)


def _day(value: dt.date | dt.datetime | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


@register.filter
def longdate(value: dt.date | dt.datetime | None) -> str:
    return _date(formatter(), _day(value), "long")


def date_with(day: dt.date, pattern: str) -> str:
    """``day`` written with a CLDR ``pattern`` ("MMMM y") in the reader's language."""
    return _date(formatter(), day, pattern)


@register.filter
def shortdate(value: dt.date | dt.datetime | None) -> str:
    return _date(formatter(), _day(value), "medium")
