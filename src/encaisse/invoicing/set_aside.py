# SPDX-License-Identifier: AGPL-3.0-or-later
"""Customers an issuance cannot invoice: set aside by a billing run, refused for a single issue.

A customer whose invoice would exceed :data:`~encaisse.core.money.MAX_INVOICE_TOTAL` (charges
recorded before the bound, or subscriptions that add up), or who has no prepaid or receivable
account, must not fail the whole chunk on every retry and leave thousands of others uninvoiced:
the run records it (:class:`~encaisse.invoicing.models.BillingRunSetAside`, shown to staff on the
run) and invoices the rest. Its charges stay uninvoiced until staff fix the cause.
"""

from __future__ import annotations

from collections.abc import Sequence

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.formatting import Formatter
from encaisse.core.money import MAX_INVOICE_TOTAL, from_cents, to_cents

from . import issuance_sql as sql
from .exceptions import InvoiceTooLarge, InvoicingError
from .models import BillingRun, BillingRunSetAside, SetAsideReason

LIMIT_CENTS = to_cents(MAX_INVOICE_TOTAL)


def set_aside_unbillable(run_id: int | None, actor: Actor) -> int:
    """Leave out the chunk's customers :func:`~encaisse.invoicing.issuance_sql.fill_drafts` could
    not draft (above the invoice maximum, or without their accounts); how many were left out.
    Outside a billing run (one customer issued now) the reason is raised instead."""
    over = sql.over_total(LIMIT_CENTS)
    too_large = {customer for customer, _ in over}
    missing = [c for c in sql.without_accounts() if c not in too_large]
    if run_id is None:
        if over:
            money = Formatter.active().money
            total = from_cents(over[0][1])
            raise InvoiceTooLarge(total=money(total), max=money(MAX_INVOICE_TOTAL))
        raise InvoicingError(
            f"customer(s) {missing} have charges but no prepaid or receivable account"
        )
    if over:
        _record(run_id, over, SetAsideReason.TOTAL_TOO_LARGE, actor)
    if missing:
        _record(run_id, [(c, None) for c in missing], SetAsideReason.NO_ACCOUNTS, actor)
    sql.leave_out([*too_large, *missing])
    return len(too_large) + len(missing)


def _record(
    run_id: int, customers: Sequence[tuple[int, int | None]], reason: str, actor: Actor
) -> None:
    rows = [
        BillingRunSetAside(
            run_id=run_id,
            customer_id=customer,
            reason=reason,
            total=None if total is None else from_cents(total),
        )
        for customer, total in customers
    ]
    # A chunk retried after a crash finds them again: one row per customer and run.
    BillingRunSetAside.objects.bulk_create(rows, ignore_conflicts=True)
    audit.record(
        "encaisse.billing_run.customers_set_aside",
        actor=actor,
        obj=BillingRun(pk=run_id),
        reason=reason,
        customers=[customer for customer, _ in customers],
    )
