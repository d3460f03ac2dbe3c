# SPDX-License-Identifier: AGPL-3.0-or-later
"""Issuing invoices from uninvoiced charges, for a range of customers, in set-based SQL.

The billing run calls :func:`issue_invoices` once per chunk of customers (≈ 2,000); issuing one
customer's invoice now is the same call with a range of one. Per chunk, inside the caller's
database transaction, a fixed number of statements run whatever the chunk size, and no row of the
chunk passes through Python (:mod:`.issuance_sql` holds the statements). The journal
transactions are posted by the ledger's set-based posting (:class:`encaisse.ledger.batch.Batch`),
which alone writes entries, transactions and balances, and checks the zero sum, the floor and the
lock order; invoicing describes the legs and headers over its drafts:

1. lock the chunk's customer accounts (the lock order of every money path: customers' accounts
   first, :meth:`encaisse.ledger.batch.Batch.lock_customer_accounts`);
2. total the uninvoiced charges per customer and VAT rate (one ``GROUP BY``), with the VAT per rate
   on the summed base rounded half-up to the cent (EN 16931 BR-CO-17; the integer form of
   ``core.money.vat_cents``), and the amount the prepaid balance settles now ("à chaque
   facturation, votre compte prépayé est débité de la somme due"): as much as the balance allows
   above its floor (0, or minus the agreed overdraft);
3. take the ids of the invoices and journal transactions to come, stage the legs (the ledger checks
   that each transaction's legs sum to zero), attach the charges (they become the invoice lines),
   insert the entries, update the customers' balances (guarded: never below the floor);
4. last, what every chunk shares: a block of gapless numbers (numbered in customer order), the
   invoices and journal transactions that carry them, and the revenue/VAT balances (aggregated:
   hot accounts are written once per chunk).

Steps 1–3 touch only the chunk's own rows, so several workers run them at once (PostgreSQL); they
queue only for step 4, from the number block to their COMMIT. The charges and entries written
before their invoice and transaction are checked at COMMIT (``core.integrity``). SQLite has one
writer at a time, so there step 4's number block, invoices and journal transactions come first:
its deferred foreign keys then find every parent in place, and never search the child tables for
references waiting on a new invoice or transaction.

Anything unexpected (a charge added concurrently, a balance that moved) raises, and the caller's
transaction rolls the whole chunk back: nothing half-issued survives a crash.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from encaisse.core import faults
from encaisse.core.actors import Actor
from encaisse.core.sequences import allocate
from encaisse.core.sql import db_date, db_datetime
from encaisse.customers.models import Customer
from encaisse.ledger.accounts import system_account_ids, vat_account_qualifier
from encaisse.ledger.batch import Batch
from encaisse.ledger.models import AccountKind, TransactionKind

from . import hooks, set_aside
from . import issuance_sql as sql
from .models import Invoice, InvoiceKind


@dataclass
class IssueResult:
    count: int = 0
    # Only with ``with_ids``: a billing chunk leaves them to its follow-up task
    # (followups.chunk_issued).
    invoice_ids: list[int] = field(default_factory=list)
    due_invoice_ids: list[int] = field(default_factory=list)


def number_series(kind: InvoiceKind, issue_date: dt.date) -> tuple[str, str]:
    """Sequence name and number prefix: one gapless series per document kind and year."""
    prefix = (
        settings.ENCAISSE_INVOICE_PREFIX
        if kind == InvoiceKind.INVOICE
        else settings.ENCAISSE_CREDIT_NOTE_PREFIX
    )
    return f"invoice:{prefix}{issue_date.year}", f"{prefix}{issue_date.year}-"


def allocate_numbers(kind: InvoiceKind, issue_date: dt.date, count: int) -> list[str]:
    series, prefix = number_series(kind, issue_date)
    return [f"{prefix}{n:06d}" for n in allocate(series, count)]


def revenue_and_vat_accounts() -> tuple[int, dict[Decimal, int]]:
    """Ids of the revenue account and of the VAT account of each configured rate, opening any
    missing one. A billing run opens them when it starts, in its own transaction, so that its
    parallel chunks never race to open one (the second would wait for the first's COMMIT)."""
    rates = list(settings.ENCAISSE_VAT_RATES)
    revenue_id, *vat_pks = system_account_ids(
        [(AccountKind.REVENUE, "")]
        + [(AccountKind.VAT_COLLECTED, vat_account_qualifier(rate)) for rate in rates]
    )
    return revenue_id, dict(zip(rates, vat_pks, strict=True))


def _result(count: int, with_ids: bool) -> IssueResult:
    result = IssueResult(count=count)
    if with_ids:
        rows = sql.results()
        result.invoice_ids = [invoice_id for invoice_id, _, _ in rows]
        result.due_invoice_ids = [invoice_id for invoice_id, total, paid in rows if paid < total]
    return result


def _post_lines(lo: int, hi: int, end: Any, batch: Batch) -> None:
    """Charges onto their invoice, the entries, the customers' balances (the chunk's own rows)."""
    sql.attach_charges(lo, hi, end)
    batch.insert_entries()
    batch.apply_customer_balances()
    faults.checkpoint("issuance.customers_settled")


@dataclass
class _Headers:
    """The chunk's gapless number block, its invoices and their journal transactions."""

    issue_date: dt.date
    count: int
    run_id: int | None
    batch: Batch

    def insert(self) -> None:
        series, prefix = number_series(InvoiceKind.INVOICE, self.issue_date)
        number = sql.number_sql(prefix, allocate(series, self.count).start)
        due_date = self.issue_date + dt.timedelta(days=settings.ENCAISSE_PAYMENT_TERMS_DAYS)
        # Stamped once the numbers are taken: the issue order is the order of numbers.
        now = db_datetime(timezone.now())
        sql.insert_invoices(
            number,
            issue=db_date(self.issue_date),
            due=db_date(due_date),
            run_id=self.run_id,
            now=now,
        )
        faults.checkpoint("issuance.invoices_inserted")
        self.batch.insert_transactions(sql.header_source(number), at=now)


def issue_invoices(
    *,
    first_customer_id: int,
    last_customer_id: int,
    period_end: dt.date,
    issue_date: dt.date,
    actor: Actor,
    run_id: int | None = None,
    with_ids: bool = True,
) -> IssueResult:
    """Issue and settle the invoices of customers in the id range; the caller holds the transaction.

    ``with_ids=False`` returns the count only (a billing chunk: its 2,000 ids would cross into
    Python for nothing)."""
    if not connection.in_atomic_block:
        raise RuntimeError("issue_invoices() must run inside a database transaction")
    lo, hi = first_customer_id, last_customer_id
    revenue_id, vat_ids = revenue_and_vat_accounts()
    batch = Batch(kind=TransactionKind.INVOICE_ISSUED, actor=actor, customers=(lo, hi))
    batch.lock_customer_accounts()
    sql.reset_tables()
    end = db_date(period_end)
    count = sql.collect_rates(lo, hi, end, run_id)
    if not count:
        return IssueResult()
    sql.check_rates(vat_ids)
    if sql.fill_drafts(lo, hi, count, set_aside.LIMIT_CENTS) != count:
        count -= set_aside.set_aside_unbillable(run_id, actor)
        if not count:
            return IssueResult()
        sql.fill_drafts(lo, hi, count, set_aside.LIMIT_CENTS)
    batch.stage(sql.leg_sources(revenue_id, vat_ids))
    headers = _Headers(issue_date, count, run_id, batch)
    if connection.vendor == "sqlite":
        # One writer at a time (IMMEDIATE): nothing to gain by taking the numbers last, and the
        # parents written first keep SQLite's deferred foreign-key counter at zero, so that it
        # does not search the child tables for each invoice and journal transaction inserted.
        headers.insert()
        _post_lines(lo, hi, end, batch)
    else:
        _post_lines(lo, hi, end, batch)
        # What every chunk shares, from here to COMMIT: the number block, then the system accounts.
        headers.insert()
    batch.apply_shared_balances()
    batch.close()
    faults.checkpoint("issuance.ledger_posted")
    return _result(count, with_ids)


def issue_invoice_now(customer: Customer, *, period_end: dt.date, actor: Actor) -> Invoice | None:
    """Issue one customer's uninvoiced charges now (staff action, API), settling from the balance."""
    with transaction.atomic():
        result = issue_invoices(
            first_customer_id=customer.pk,
            last_customer_id=customer.pk,
            period_end=period_end,
            issue_date=timezone.localdate(),
            actor=actor,
        )
        hooks.documents_issued(result.invoice_ids, result.due_invoice_ids)
    return Invoice.objects.filter(pk__in=result.invoice_ids).first()
