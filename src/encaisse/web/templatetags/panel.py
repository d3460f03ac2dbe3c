# SPDX-License-Identifier: AGPL-3.0-or-later
"""Template filters of the panel: money and dates written the way the reader's language does.

Django localises numbers but has no currency formatting, so amounts go through Babel with the
same :class:`~encaisse.core.formatting.Formatter` as the invoice PDFs (same text on screen and
paper) and the back-office (whose ``backoffice`` library and model admins reuse these filters).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache

from django import template
from django.conf import settings
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from encaisse.core.formatting import BABEL_LOCALES, Formatter
from encaisse.web.panel.chart import Chart
from encaisse.web.panel.links import object_url

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


@register.filter
def shortdate(value: dt.date | dt.datetime | None) -> str:
    return _date(formatter(), _day(value), "medium")


@register.filter
def invoice_url(pk: int) -> str:
    return object_url("invoice", pk)


@register.filter
def invoice_pdf_url(pk: int) -> str:
    return object_url("invoice_pdf", pk)


def _month(day: dt.date, pattern: str) -> str:
    return _date(formatter(), day, pattern)


@register.simple_tag
def balance_chart_svg(chart: Chart) -> SafeString:
    """The chart as inline SVG, built here rather than in a template loop (a dozen nodes per
    point made it the costliest part of the dashboard). Every text is escaped by format_html."""
    grid = format_html_join(
        "",
        '<line class="grid" x1="{0}" x2="{1}" y1="{2}" y2="{2}"/>'
        '<text x="{3}" y="{2}" text-anchor="end" dominant-baseline="middle">{4}</text>',
        ((chart.left, chart.width, y, chart.left - 8, money(value)) for y, value in chart.ticks),
    )
    points = format_html_join(
        "",
        '<circle class="dot" cx="{0}" cy="{1}" r="3.5"><title>{2} — {3}</title></circle>'
        '<text x="{0}" y="{4}" text-anchor="middle">{5}</text>',
        (
            (p.x, p.y, _month(p.month, "MMMM y"), money(p.balance), chart.height - 10,
             _month(p.month, "MMM"))
            for p in chart.points
        ),
    )  # fmt: skip
    return format_html(
        '<svg viewBox="0 0 {0} {1}" role="img" aria-labelledby="chart-title chart-desc" '
        'focusable="false"><desc id="chart-desc">{2}</desc>{3}'
        '<line class="zero" x1="{4}" x2="{0}" y1="{5}" y2="{5}"/>'
        '<path class="line" d="{6}"/>{7}</svg>',
        chart.width,
        chart.height,
        gettext("Month-end prepaid balance; the table below gives the same figures."),
        grid,
        chart.left,
        chart.zero_y,
        chart.path,
        points,
    )


@register.filter
def month_year(day: dt.date) -> str:
    return _month(day, "MMMM y")
