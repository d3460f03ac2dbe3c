# SPDX-License-Identifier: AGPL-3.0-or-later
"""CSV cells that a spreadsheet shows as text, never runs as a formula (OWASP "CSV Injection").

Excel, LibreOffice and Google Sheets evaluate a cell that starts with ``=``, ``+``, ``-`` or
``@`` (and, after a tab or a carriage return, whatever follows) as a formula, which may fetch
URLs or run commands on the reader's machine. A movement's reason or description is text that a
customer or staff member typed, so every CSV export passes its rows through :func:`safe_row`:
such a text cell gets OWASP's single-quote prefix, which spreadsheets display as plain text.

Only text is touched: amounts are written by us as numbers (``Decimal``, ``int``) and a negative
amount such as ``-12.50`` must stay a number the reader can add up. So callers pass amounts as
numbers, not as pre-formatted strings; a string that looks like a number is still someone's text.

>>> from decimal import Decimal
>>> safe_row(["=HYPERLINK(\\"http://x\\")", "Top-up", Decimal("-12.50"), 3])
['\\'=HYPERLINK("http://x")', 'Top-up', Decimal('-12.50'), 3]
"""

from __future__ import annotations

from collections.abc import Iterable

#: First characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """The cell as it may be written: text starting like a formula is prefixed with ``'``.

    >>> safe_cell("=1+1")
    "'=1+1"
    >>> safe_cell("-12.50 typed by someone")
    "'-12.50 typed by someone"
    >>> safe_cell("@SUM(A1:A9)"), safe_cell("\\t=1"), safe_cell("+33 6 12 34 56 78")
    ("'@SUM(A1:A9)", "'\\t=1", "'+33 6 12 34 56 78")
    >>> safe_cell("Facture FA2026-000001"), safe_cell("")
    ('Facture FA2026-000001', '')
    >>> from decimal import Decimal
    >>> safe_cell(Decimal("-12.50")), safe_cell(-3)
    (Decimal('-12.50'), -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(values: Iterable[object]) -> list[object]:
    """Every cell of a row through :func:`safe_cell`, for ``csv.writer.writerow``."""
    return [safe_cell(value) for value in values]
