# SPDX-License-Identifier: AGPL-3.0-or-later
"""Money: ``Decimal`` in Python, integer minor units (cents) at rest and on the wire.

SQLite stores and sums ``DecimalField`` values as floating point, so every amount the database sums
or compares is kept as an integer number of cents (decisions.md §1). Rounding happens here and only
here: half-up, as French invoicing practice and EN 16931 (BR-DEC rules, 2 decimals) expect.

>>> to_cents(Decimal("12.34"))
1234
>>> from_cents(-5)
Decimal('-0.05')
>>> round_money(Decimal("0.125"))
Decimal('0.13')
>>> vat_cents(1000, Decimal("5.5"))
55
>>> vat_cents(1, Decimal("20"))
0

Every amount is bounded (:data:`MAX_AMOUNT`, :data:`MAX_INVOICE_TOTAL`, :data:`MAX_BALANCE`,
:data:`MAX_STORED`), far below the 2^63 cents (92 233 720 368 547 758.07) a 64-bit column holds:
past it SQLite silently turns a sum into a float and PostgreSQL fails the whole statement. An amount
above its bound is refused where it enters, with a translated message; the database refuses any
money column beyond :data:`MAX_STORED` or, on SQLite, any value that is not an integer
(``core.fields.money_column_check``), and ``encaisse checkledger`` verifies both.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
#: No number typed or sent to Encaisse (amount, quantity, price) reaches a thousand billion.
MAX_ABS = Decimal(10) ** 12
#: The most one amount may be: a charge line (net, EN 16931 BT-131), a unit price, a payment, a
#: top-up or an overdraft. One billion euros: 10^11 cents.
MAX_AMOUNT = Decimal("1000000000.00")
#: The most an invoice's total with VAT (BT-112) may be: ten billion euros, 10^12 cents. Checked
#: when a charge is added (the customer's uninvoiced charges with VAT) and by the billing run,
#: which sets a customer above it aside rather than fail its whole chunk.
MAX_INVOICE_TOTAL = Decimal("10000000000.00")
#: The most a customer's prepaid balance or amount due may reach: a hundred billion, 10^13 cents.
MAX_BALANCE = Decimal("100000000000.00")
#: Database backstop for every money column (system accounts' balances included): 10^17 stored
#: units (10^15 euros), 92 times below the 64-bit limit, so that no sum of a chunk overflows.
MAX_STORED = 10**17
#: Plain decimal notation with ASCII digits only: ``Decimal()`` also takes "1e3", "NaN",
#: "Infinity", Arabic-Indic or full-width digits and underscores ("1_000").
_PLAIN_DECIMAL = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$", re.ASCII)


class MoneyError(ValueError):
    """An amount that is not a finite decimal with at most the allowed number of decimals."""


class AmountTooLarge(MoneyError):
    """A well-formed amount above its bound (told apart: "too many decimals" would mislead)."""


def parse_decimal(value: object, *, places: int = 2, field: str = "amount") -> Decimal:
    """Parse ``value`` (str, int or Decimal; never float) into an exact ``Decimal``.

    Floats are refused: ``0.1`` as a float is not one tenth, and money must be exact.
    """
    if isinstance(value, bool | float):
        raise MoneyError(f"{field}: give a decimal string such as '12.34', not a float")
    if not isinstance(value, Decimal | int) and not _PLAIN_DECIMAL.match(str(value).strip()):
        raise MoneyError(f"{field}: {value!r} is not a plain decimal number with ASCII digits")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"{field}: {value!r} is not a decimal number") from exc
    if not amount.is_finite():
        raise MoneyError(f"{field}: {value!r} is not a finite number")
    if abs(amount) >= MAX_ABS:
        raise AmountTooLarge(f"{field}: {value!r} is not a number of a sensible size")
    exponent = amount.as_tuple().exponent
    if (
        isinstance(exponent, int)
        and -exponent > places
        and amount != amount.quantize(Decimal(1).scaleb(-places))
    ):
        raise MoneyError(f"{field}: {value!r} has more than {places} decimals")
    return amount


_TYPED_SPACES = re.compile(r"[\s\u00a0\u202f]")


def parse_typed_amount(text: str) -> Decimal:
    """An amount a person typed in a form: "1 234,50", "49.90" or "-5" (spaces and a decimal
    comma allowed, at most 2 decimals); :class:`MoneyError` for anything else.

    >>> parse_typed_amount("1\u202f234,5")
    Decimal('1234.5')
    """
    raw = _TYPED_SPACES.sub("", text or "").replace(",", ".")
    if not _PLAIN_DECIMAL.match(raw):
        raise MoneyError(f"{text!r} is not a plain decimal amount")
    return parse_decimal(raw, places=2)


def check_bound(amount: Decimal, bound: Decimal, *, field: str = "amount") -> Decimal:
    """``amount`` if its absolute value is at most ``bound``, else :class:`AmountTooLarge`.

    >>> check_bound(MAX_AMOUNT, MAX_AMOUNT)
    Decimal('1000000000.00')
    >>> check_bound(-MAX_AMOUNT - CENT, MAX_AMOUNT)
    Traceback (most recent call last):
    ...
    encaisse.core.money.AmountTooLarge: amount: -1000000000.01 is above 1000000000.00
    """
    if abs(amount) > bound:
        raise AmountTooLarge(f"{field}: {amount} is above {bound}")
    return amount


def round_money(amount: Decimal) -> Decimal:
    """Round to the cent, half away from zero (the one rounding rule of Encaisse)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(amount: Decimal) -> int:
    """Exact conversion to cents; refuses an amount with fractions of a cent."""
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise MoneyError(f"{amount} has fractions of a cent")
    return int(cents)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def vat_cents(base_cents: int, rate: Decimal) -> int:
    """VAT on a base for one rate, rounded half-up to the cent (EN 16931 BT-117 = BT-116 × BT-119)."""
    return to_cents(round_money(from_cents(base_cents) * rate / 100))


def line_cents(quantity: Decimal, unit_price: Decimal) -> int:
    """Net amount of a line (EN 16931 BT-131 = BT-129 × BT-146), rounded to the cent."""
    return to_cents(round_money(quantity * unit_price))
