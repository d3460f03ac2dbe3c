# SPDX-License-Identifier: AGPL-3.0-or-later
"""Template filters of the panel: links, the balance chart, and money and dates written the way
the reader's language does (``core.templatetags.formatting``, the same as e-mails and PDFs; the
back-office's ``backoffice`` library and model admins reuse them)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from encaisse.core.templatetags.formatting import (
    date_with,
    longdate,
    money,
    shortdate,
    signed_money,
)
from encaisse.web.panel.chart import Chart
from encaisse.web.panel.links import object_url

register = template.Library()
# The money and date filters of every layer (``core``), under the panel's library too.
for _filter in (money, signed_money, longdate, shortdate):
    register.filter(_filter.__name__, _filter)


@register.filter
def invoice_url(pk: int) -> str:
    return object_url("invoice", pk)


@register.filter
def invoice_pdf_url(pk: int) -> str:
    return object_url("invoice_pdf", pk)


def _month(day: dt.date, pattern: str) -> str:
    return date_with(day, pattern)


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
