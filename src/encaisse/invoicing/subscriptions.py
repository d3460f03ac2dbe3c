# SPDX-License-Identifier: AGPL-3.0-or-later
"""Recurring subscriptions: turn each due period of an active subscription into a charge.

For providers without a platform of their own (and for the demo). Idempotent: each charge carries
the external id ``subscription:<id>:<period start>``, unique per customer, so a crash between the
charge and the advance of ``next_period_start`` is repaired by the next call.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

from django.db import transaction

from encaisse.core.actors import Actor
from encaisse.core.money import from_cents, line_cents
from encaisse.ledger.services import lock_customers

from .charges import check_period, clean_line
from .models import Charge, Interval, Plan, Subscription, SubscriptionStatus

BATCH = 1000


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_after(start: dt.date, interval: str) -> dt.date:
    """First day of the period that follows the one starting at ``start``."""
    return add_months(start, 12 if interval == Interval.YEAR else 1)


def _charges_for(sub: Subscription, period_end: dt.date, actor: Actor) -> list[Charge]:
    charges, start = [], sub.next_period_start
    while start <= period_end:
        nxt = period_after(start, sub.plan.interval)
        charges.append(
            Charge(
                customer_id=sub.customer_id,
                subscription=sub,
                description=sub.plan.name,
                quantity=sub.quantity,
                unit_price=sub.plan.unit_price,
                vat_rate=sub.plan.vat_rate,
                amount=from_cents(line_cents(sub.quantity, sub.plan.unit_price)),
                period_start=start,
                period_end=nxt - dt.timedelta(days=1),
                external_id=f"subscription:{sub.pk}:{start.isoformat()}",
                **actor.fields(),
            )
        )
        start = nxt
    sub.next_period_start = start
    return charges


def generate_charges(*, period_end: dt.date, actor: Actor) -> int:
    """Create the charges of every subscription period starting on or before ``period_end``."""
    created = 0
    while True:
        with transaction.atomic(durable=True):
            batch = list(
                Subscription.objects.select_related("plan")
                .filter(status=SubscriptionStatus.ACTIVE, next_period_start__lte=period_end)
                .order_by("pk")[:BATCH]
            )
            if not batch:
                return created
            lock_customers(s.customer_id for s in batch)
            charges = [c for sub in batch for c in _charges_for(sub, period_end, actor)]
            Charge.objects.bulk_create(charges, ignore_conflicts=True)
            Subscription.objects.bulk_update(batch, ["next_period_start"])
            created += len(charges)


def subscribe(
    customer_id: int, plan_id: int, *, start: dt.date, quantity: Decimal = Decimal(1)
) -> Subscription:
    """Start a subscription; its first period starts on ``start`` (a plausible date, see
    :func:`~encaisse.invoicing.charges.check_period`: from 0001-01-01 the first billing run would
    create 24,000 monthly charges) and whose line stays within the line maximum
    (:func:`~encaisse.invoicing.charges.clean_line`)."""
    check_period(start, start)
    clean_line(quantity, Plan.objects.get(pk=plan_id).unit_price)
    return Subscription.objects.create(
        customer_id=customer_id, plan_id=plan_id, quantity=quantity, next_period_start=start
    )
