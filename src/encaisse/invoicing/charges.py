# SPDX-License-Identifier: AGPL-3.0-or-later
"""Charges: what the hosting platform bills, waiting for the next invoice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.formatting import Formatter
from encaisse.core.money import (
    MAX_AMOUNT,
    MAX_INVOICE_TOTAL,
    MoneyError,
    from_cents,
    line_cents,
    parse_decimal,
    to_cents,
    vat_cents,
)
from encaisse.core.text import clean_text
from encaisse.customers.models import Customer
from encaisse.ledger.services import lock_customers

from .exceptions import (
    ChargeAlreadyInvoiced,
    ImplausiblePeriod,
    InvalidAmount,
    InvalidPeriod,
    InvoiceTooLarge,
    LineTooLarge,
    UnknownVatRate,
)
from .models import Charge

MAX_QUANTITY = Decimal("1000000000")
MAX_UNIT_PRICE = Decimal("100000000")
#: Bounds of a plausible service period (BT-73/BT-74), see :func:`check_period`.
EARLIEST_PERIOD_START = dt.date(2000, 1, 1)
MAX_PERIOD_YEARS = 5
MAX_YEARS_AHEAD = 2


def clean_vat_rate(value: object) -> Decimal:
    try:
        rate = parse_decimal(value, places=2, field="vat_rate")
    except MoneyError as exc:
        raise UnknownVatRate(rate=value, allowed=_allowed()) from exc
    if rate not in settings.ENCAISSE_VAT_RATES:
        raise UnknownVatRate(rate=value, allowed=_allowed())
    return rate


def _allowed() -> str:
    return ", ".join(f"{rate}" for rate in settings.ENCAISSE_VAT_RATES)


def clean_positive(value: object, *, field: str, places: int, allow_zero: bool) -> Decimal:
    try:
        amount = parse_decimal(value, places=places, field=field)
    except MoneyError as exc:
        raise InvalidAmount(field=field, places=places) from exc
    limit = MAX_QUANTITY if field == "quantity" else MAX_UNIT_PRICE
    if amount < 0 or (amount == 0 and not allow_zero) or amount > limit:
        raise InvalidAmount(field=field, places=places)
    return amount


def clean_line(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """The line's net amount (BT-131), at most :data:`~encaisse.core.money.MAX_AMOUNT`."""
    amount = from_cents(line_cents(quantity, unit_price))
    if amount > MAX_AMOUNT:
        money = Formatter.active().money
        raise LineTooLarge(max=money(MAX_AMOUNT), amount=money(amount))
    return amount


def check_invoice_total(customer: Customer, *, amount: Decimal, vat_rate: Decimal) -> None:
    """Refuse a charge that would take the customer's next invoice above
    :data:`~encaisse.core.money.MAX_INVOICE_TOTAL` (with VAT, as the billing run computes it:
    VAT per rate on the sum of the rate's lines). The caller holds the customer's lock, so two
    charges added at once cannot both pass."""
    bases = dict(
        Charge.objects.filter(customer=customer, invoice__isnull=True)
        .values_list("vat_rate")
        .annotate(base=Sum("amount"))
        .values_list("vat_rate", "base")
    )
    bases[vat_rate] = bases.get(vat_rate, Decimal(0)) + amount
    total = sum(to_cents(base) + vat_cents(to_cents(base), rate) for rate, base in bases.items())
    if total > to_cents(MAX_INVOICE_TOTAL):
        money = Formatter.active().money
        raise InvoiceTooLarge(total=money(from_cents(total)), max=money(MAX_INVOICE_TOTAL))


def clean_description(value: str) -> str:
    """The line's name (BT-153), stripped: required, on one line, without control characters."""
    return clean_text(value, field=_label("description"), required=True)[:200]


def years_later(day: dt.date, years: int) -> dt.date:
    """``day`` moved by whole years (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def check_period(start: dt.date, end: dt.date) -> None:
    """Refuse a service period no real service has: a typo, or a client's placeholder dates.

    The bounds: it starts on or after 1 January 2000 (EARLIEST_PERIOD_START: no customer of the
    platform was served before), lasts at most five years (MAX_PERIOD_YEARS: the longest
    prepaid plan sold, with room to spare) and ends at most two years after today
    (MAX_YEARS_AHEAD: a yearly plan invoiced in advance, plus a margin). A period of 0001-01-01 to
    9999-12-31 would otherwise be printed on an invoice and sent to Chorus Pro as such.
    """
    if start > end:
        raise InvalidPeriod()
    latest_end = years_later(timezone.localdate(), MAX_YEARS_AHEAD)
    # In this order: once the end is bounded, ``years_later(start, …)`` cannot pass year 9999.
    if end > latest_end or start < EARLIEST_PERIOD_START:
        raise _implausible(start, end, latest_end)
    if end > years_later(start, MAX_PERIOD_YEARS):
        raise _implausible(start, end, latest_end)


def _implausible(start: dt.date, end: dt.date, latest_end: dt.date) -> ImplausiblePeriod:
    fmt = Formatter.active()
    return ImplausiblePeriod(
        start=fmt.date(start, "medium"),
        end=fmt.date(end, "medium"),
        earliest=fmt.date(EARLIEST_PERIOD_START, "medium"),
        years=MAX_PERIOD_YEARS,
        latest=fmt.date(latest_end, "medium"),
    )


def lock_customer(customer: Customer) -> None:
    """Take the customer's money lock: its prepaid account row (the first lock of every money path).

    The billing run locks the same rows for a whole chunk, so a charge cannot slip in between the
    moment a chunk totals its charges and the moment it attaches them to the invoices.
    """
    lock_customers([customer.pk])


def add_charge(
    customer: Customer,
    *,
    description: str,
    quantity: object,
    unit_price: object,
    vat_rate: object,
    period_start: dt.date,
    period_end: dt.date,
    actor: Actor,
    external_id: str = "",
) -> tuple[Charge, bool]:
    """Record a charge; with an ``external_id`` a retry returns the first charge (created=False)."""
    qty = clean_positive(quantity, field="quantity", places=4, allow_zero=False)
    price = clean_positive(unit_price, field="unit_price", places=4, allow_zero=True)
    rate = clean_vat_rate(vat_rate)
    check_period(period_start, period_end)
    external_id = clean_text(external_id, field=_label("external_id"))
    fields: dict[str, Any] = {
        # BT-153: an invoice line needs a name; a blank one is refused, not stored empty.
        "description": clean_description(description),
        "quantity": qty,
        "unit_price": price,
        "vat_rate": rate,
        "amount": clean_line(qty, price),
        "period_start": period_start,
        "period_end": period_end,
    }
    with transaction.atomic():
        lock_customer(customer)
        if external_id:
            existing = Charge.objects.filter(customer=customer, external_id=external_id).first()
            if existing is not None:
                return existing, False
        check_invoice_total(customer, amount=fields["amount"], vat_rate=rate)
        try:
            with transaction.atomic():
                charge = Charge.objects.create(
                    customer=customer, external_id=external_id, **fields, **actor.fields()
                )
        except IntegrityError:
            return Charge.objects.get(customer=customer, external_id=external_id), False
    return charge, True


def _label(name: str) -> str:
    return str(getattr(Charge._meta.get_field(name), "verbose_name", name))


def cancel_charge(charge: Charge, *, actor: Actor, reason: str) -> None:
    """Remove a charge that is not invoiced yet (an invoiced one is corrected by a credit note)."""
    with transaction.atomic():
        lock_customer(charge.customer)
        charge.refresh_from_db()
        if charge.invoice_id is not None:
            raise ChargeAlreadyInvoiced(number=charge.invoice.number if charge.invoice else "")
        audit.record(
            "encaisse.charge.cancelled",
            actor=actor,
            obj=charge,
            reason=reason,
            description=charge.description,
            amount=str(charge.amount),
        )
        charge.delete()
