# SPDX-License-Identifier: AGPL-3.0-or-later
"""One money formatter for the invoice PDFs, the customer panel and the back-office."""

from __future__ import annotations

import datetime as dt
import doctest
from decimal import Decimal

import pytest
from django.utils import translation

from encaisse.core import formatting
from encaisse.core.formatting import BABEL_LOCALES, Formatter
from encaisse.web.templatetags import backoffice, panel

NBSP, NNBSP = "\u00a0", "\u202f"


def test_doctests_of_formatting_hold():
    assert doctest.testmod(formatting).failed == 0


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", f"1{NNBSP}234,50{NBSP}€"), ("en", "€1,234.50")],
)
def test_amounts_are_written_the_way_the_customers_language_does(language, expected):
    assert Formatter(BABEL_LOCALES[language], "EUR").money(Decimal("1234.5")) == expected


def test_sub_cent_unit_prices_keep_their_decimals_and_amounts_show_cents():
    fmt = Formatter("fr_FR", "EUR")

    assert fmt.money(Decimal("0.0125")) == f"0,0125{NBSP}€"
    assert fmt.money(Decimal(12)) == f"12,00{NBSP}€"
    assert fmt.money(None) == f"0,00{NBSP}€"


def test_rates_quantities_and_dates():
    fmt = Formatter("fr_FR", "EUR")

    assert fmt.rate(Decimal("5.5")) == f"5,5{NBSP}%"
    assert fmt.quantity(Decimal("2.5000")) == "2,5"
    assert fmt.date(dt.date(2026, 10, 1)) == "1 octobre 2026"
    assert fmt.date(dt.date(2026, 10, 1), "MMMM y") == "octobre 2026"
    assert fmt.date(None) == ""


@pytest.mark.parametrize("language", ["fr", "en"])
def test_panel_and_back_office_filters_write_what_the_pdf_writes(language):
    amount = Decimal("1234.56")
    pdf = Formatter(BABEL_LOCALES[language], "EUR").money(amount)

    with translation.override(language):
        assert panel.money(amount) == pdf
        assert backoffice.register.filters["amount"](amount) == pdf
