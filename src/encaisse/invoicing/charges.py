# SPDX-License-Identifier: AGPL-3.0-or-later
"""Charges: what the hosting platform bills, waiting for the next invoice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.money import MoneyError, from_cents, line_cents, parse_decimal
from encaisse.customers.models import Customer
from encaisse.ledger.services import lock_customers

from .exceptions import ChargeAlreadyInvoiced, InvalidAmount, InvalidPeriod, UnknownVatRate
from .models import Charge

MAX_QUANTITY = Decimal("1000000000")
MAX_UNIT_PRICE = Decimal("100000000")


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
    if period_start > period_end:
        raise InvalidPeriod()
    fields = {
        "description": description.strip()[:200],
        "quantity": qty,
        "unit_price": price,
        "vat_rate": rate,
        "amount": from_cents(line_cents(qty, price)),
        "period_start": period_start,
        "period_end": period_end,
    }
    with transaction.atomic():
        lock_customer(customer)
        if external_id:
            existing = Charge.objects.filter(customer=customer, external_id=external_id).first()
            if existing is not None:
                return existing, False
        try:
            with transaction.atomic():
                charge = Charge.objects.create(
                    customer=customer, external_id=external_id, **fields, **actor.fields()
                )
        except IntegrityError:
            return Charge.objects.get(customer=customer, external_id=external_id), False
    return charge, True


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
