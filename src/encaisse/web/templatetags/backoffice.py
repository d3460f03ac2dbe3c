# SPDX-License-Identifier: AGPL-3.0-or-later
"""Template filters of the back-office: amounts and dates in the reader's language.

The same filters as the customer panel (``panel`` library, Babel formatting shared with the
invoice PDFs) under the back-office's names, so staff read "1 234,56 €" in French and "€1,234.56"
in English, as on the invoices they send.
"""

from __future__ import annotations

from django import template

from .panel import money, shortdate, signed_money

register = template.Library()
register.filter("amount", money)
register.filter("signed_amount", signed_money)
register.filter("day", shortdate)
