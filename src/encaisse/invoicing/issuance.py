# SPDX-License-Identifier: AGPL-3.0-or-later
"""Issuing invoices from uninvoiced charges, for a range of customers, in set-based SQL.

The billing run calls :func:`issue_invoices` once per chunk of customers (≈ 2,000); issuing one
customer's invoice now is the same call with a range of one. Per chunk, inside the caller's
database transaction, a fixed number of statements run whatever the chunk size:

1. lock the chunk's accounts and the revenue/VAT accounts, in ascending id order (the lock order of
   every money path), and read the prepaid balances;
2. total the uninvoiced charges per customer and VAT rate (one ``GROUP BY``);
3. compute totals and VAT in Python with the one rounding helper (``core.money``): VAT per rate on
   the summed base, half-up (EN 16931 BR-CO-17), and the amount the prepaid balance settles now
   ("à chaque facturation, votre compte prépayé est débité de la somme due"): as much as the
   balance allows above its floor (0, or minus the agreed overdraft);
4. take a block of gapless numbers, insert the invoices, attach the charges (they become the
   invoice lines), insert the journal transactions and their entries with ``executemany``;
5. update balances: guarded per prepaid account (never below the floor), aggregated for revenue
   and VAT (hot accounts are written once per chunk), then check that every transaction of the
   chunk sums to zero.

Anything unexpected (a charge added concurrently, a balance that moved) raises, and the caller's
transaction rolls the whole chunk back: nothing half-issued survives a crash.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from encaisse.core import faults
from encaisse.core.actors import Actor
from encaisse.core.money import from_cents, vat_cents
from encaisse.core.sequences import allocate
from encaisse.core.sql import db_date, db_datetime, for_update, json_param, placeholders, table
from encaisse.customers.models import Customer
from encaisse.ledger.accounts import system_account, vat_account
from encaisse.ledger.exceptions import InsufficientFunds, UnbalancedTransaction
from encaisse.ledger.models import Account, AccountKind, Entry, LedgerTransaction, TransactionKind

from .exceptions import InvoicingError
from .models import Charge, Invoice, InvoiceKind, InvoiceStatus


@dataclass
class Draft:
    """An invoice being computed for one customer (plain ints: cents)."""

    customer_id: int
    bases: dict[Decimal, int] = field(default_factory=dict)
    charge_count: int = 0
    period_start: object = None
    period_end: object = None
    number: str = ""
    invoice_id: int = 0
    excl: int = 0
    vat: dict[Decimal, int] = field(default_factory=dict)
    paid: int = 0
    total: int = 0  # excl + VAT, set by _compute


@dataclass
class IssueResult:
    invoice_ids: list[int] = field(default_factory=list)
    due_invoice_ids: list[int] = field(default_factory=list)
    total_cents: int = 0
    settled_cents: int = 0


@dataclass
class ChunkAccounts:
    prepaid: dict[int, tuple[int, int, int | None]]  # customer -> (account id, balance, floor)
    receivable: dict[int, int]  # customer -> account id
    revenue_id: int
    vat_ids: dict[Decimal, int]


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


def _lock_accounts(lo: int, hi: int) -> ChunkAccounts:
    revenue = system_account(AccountKind.REVENUE)
    vats = {rate: vat_account(rate).pk for rate in settings.ENCAISSE_VAT_RATES}
    system_ids = [revenue.pk, *vats.values()]
    sql = (
        f"SELECT id, customer_id, kind, balance, floor FROM {table(Account)} "
        f"WHERE customer_id BETWEEN %s AND %s OR id IN ({placeholders(len(system_ids))}) "
        f"ORDER BY id{for_update()}"
    )
    accounts = ChunkAccounts({}, {}, revenue.pk, vats)
    with connection.cursor() as cursor:
        cursor.execute(sql, [lo, hi, *system_ids])
        for account_id, customer_id, kind, balance, floor in cursor.fetchall():
            if kind == AccountKind.PREPAID:
                accounts.prepaid[customer_id] = (account_id, balance, floor)
            elif kind == AccountKind.RECEIVABLE:
                accounts.receivable[customer_id] = account_id
    return accounts


def _uninvoiced_index() -> str:
    """Make SQLite read the chunk's uninvoiced charges by (customer, period) — partial index
    ``charge_uninvoiced`` — instead of walking every uninvoiced charge through the ``invoice_id``
    index, which it picks without statistics and which makes each chunk cost O(all charges)."""
    return " INDEXED BY charge_uninvoiced" if connection.vendor == "sqlite" else ""


def _collect_drafts(lo: int, hi: int, period_end: dt.date, run_id: int | None) -> list[Draft]:
    already = ""
    params: list[Any] = [lo, hi, db_date(period_end)]
    if run_id is not None:
        already = (
            f" AND customer_id NOT IN (SELECT customer_id FROM {table(Invoice)}"
            " WHERE billing_run_id = %s AND customer_id BETWEEN %s AND %s)"
        )
        params += [run_id, lo, hi]
    sql = (
        "SELECT customer_id, vat_rate, SUM(amount), COUNT(*), MIN(period_start), MAX(period_end) "
        f"FROM {table(Charge)}{_uninvoiced_index()} WHERE invoice_id IS NULL "
        "AND customer_id BETWEEN %s AND %s "
        f"AND period_start <= %s{already} GROUP BY customer_id, vat_rate ORDER BY customer_id"
    )
    drafts: dict[int, Draft] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for customer_id, rate, base, count, start, end in cursor.fetchall():
            draft = drafts.get(customer_id) or drafts.setdefault(customer_id, Draft(customer_id))
            draft.bases[Decimal(rate) / 100] = int(base)
            draft.charge_count += count
            draft.period_start = (
                start if draft.period_start is None else min(draft.period_start, start)
            )
            draft.period_end = end if draft.period_end is None else max(draft.period_end, end)
    return list(drafts.values())


def _compute(drafts: Iterable[Draft], accounts: ChunkAccounts) -> None:
    for draft in drafts:
        draft.excl = sum(draft.bases.values())
        draft.vat = {rate: _vat(base, rate) for rate, base in draft.bases.items()}
        draft.total = draft.excl + sum(draft.vat.values())
        _, balance, floor = accounts.prepaid[draft.customer_id]
        available = max(0, balance - (floor if floor is not None else 0))
        draft.paid = min(draft.total, available)


BUYER_FIELDS = (
    "number",
    "name",
    "kind",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "vat_number",
    "siret",
)


def _buyers(first: int, last: int) -> dict[int, str]:
    """Buyer snapshots (JSON) of the chunk's customers, in one query without model instances."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {', '.join(BUYER_FIELDS)} FROM {table(Customer)} "
            "WHERE id BETWEEN %s AND %s",
            [first, last],
        )
        return {row[0]: json.dumps(dict(zip(BUYER_FIELDS, row[1:], strict=True))) for row in cursor}


@functools.lru_cache(maxsize=4096)
def _breakdown_json(items: tuple[tuple[Decimal, int, int], ...]) -> str:
    """EN 16931 BG-23 as stored; cached because most invoices share a few (rate, base) pairs."""
    return json.dumps(
        [
            {"rate": f"{rate:.2f}", "base": str(from_cents(base)), "vat": str(from_cents(vat))}
            for rate, base, vat in items
        ]
    )


def _breakdown(draft: Draft) -> str:
    return _breakdown_json(
        tuple((rate, base, draft.vat[rate]) for rate, base in sorted(draft.bases.items()))
    )


@functools.lru_cache(maxsize=4096)
def _vat(base: int, rate: Decimal) -> int:
    return vat_cents(base, rate)


def _insert_invoices(
    drafts: list[Draft], *, issue_date: dt.date, due_date: dt.date, run_id: int | None, now: object
) -> None:
    buyers = _buyers(drafts[0].customer_id, drafts[-1].customer_id)
    currency = settings.ENCAISSE_CURRENCY
    columns = (
        "number, kind, customer_id, issue_date, due_date, period_start, period_end, currency, "
        "total_excl_vat, total_vat, total_incl_vat, vat_breakdown, buyer, billing_run_id, "
        "paid, credited, status, pdf, created_at"
    )
    values = f"%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, {json_param()}, {json_param()}, " + (
        "%s, %s, 0, %s, '', %s"
    )
    issue, due = db_date(issue_date), db_date(due_date)
    rows: list[tuple[Any, ...]] = [
        (
            d.number,
            InvoiceKind.INVOICE.value,
            d.customer_id,
            issue,
            due,
            d.period_start,
            d.period_end,
            currency,
            d.excl,
            d.total - d.excl,
            d.total,
            _breakdown(d),
            buyers[d.customer_id],
            run_id,
            d.paid,
            (InvoiceStatus.PAID if d.paid == d.total else InvoiceStatus.OPEN).value,
            now,
        )
        for d in drafts
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table(Invoice)} ({columns}) VALUES ({values})", rows)
        cursor.execute(
            f"SELECT number, id FROM {table(Invoice)} WHERE number IN ({placeholders(len(drafts))})",
            [d.number for d in drafts],
        )
        ids = dict(cursor.fetchall())
    for d in drafts:
        d.invoice_id = ids[d.number]


def _attach_charges(drafts: list[Draft], period_end: dt.date) -> None:
    """Put the totalled charges on their invoice; any other count means a concurrent change."""
    sql = (
        f"UPDATE {table(Charge)} SET invoice_id = %s "
        "WHERE customer_id = %s AND invoice_id IS NULL AND period_start <= %s"
    )
    end = db_date(period_end)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(d.invoice_id, d.customer_id, end) for d in drafts])
        attached = cursor.rowcount
    if attached != sum(d.charge_count for d in drafts):
        raise InvoicingError("charges changed while invoices were being issued; retry")


def _legs(d: Draft, accounts: ChunkAccounts) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Entries (account id, cents; debit > 0) of the issuance and of the settlement by balance."""
    receivable = accounts.receivable[d.customer_id]
    issued = [(receivable, d.total), (accounts.revenue_id, -d.excl)]
    issued += [(accounts.vat_ids[rate], -vat) for rate, vat in d.vat.items() if vat]
    settled = (
        [(accounts.prepaid[d.customer_id][0], d.paid), (receivable, -d.paid)] if d.paid else []
    )
    return [leg for leg in issued if leg[1]], settled


def _post_ledger(drafts: list[Draft], accounts: ChunkAccounts, actor: Actor, now: object) -> None:
    actor_cols = actor.fields()
    txn_rows: list[tuple[Any, ...]] = []
    legs_by_key: dict[str, list[tuple[int, int]]] = {}
    for d in drafts:
        issued, settled = _legs(d, accounts)
        for suffix, kind, legs, text in (
            ("issued", TransactionKind.INVOICE_ISSUED, issued, "Invoice %s issued"),
            (
                "settled:issuance",
                TransactionKind.INVOICE_SETTLED,
                settled,
                "Invoice %s paid from balance",
            ),
        ):
            if legs:
                key = f"invoice:{d.invoice_id}:{suffix}"
                legs_by_key[key] = legs
                txn_rows.append(
                    (
                        key,
                        kind.value,
                        text % d.number,
                        now,
                        d.customer_id,
                        d.invoice_id,
                        actor_cols["actor_kind"],
                        actor_cols["actor_id"],
                        actor_cols["actor_label"],
                    )
                )
    if not txn_rows:
        return
    currency = settings.ENCAISSE_CURRENCY
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table(LedgerTransaction)} (idempotency_key, kind, description, reason, "
            "created_at, customer_id, invoice_id, actor_kind, actor_id, actor_label) "
            "VALUES (%s, %s, %s, '', %s, %s, %s, %s, %s, %s)",
            txn_rows,
        )
        low, high = drafts[0].invoice_id, drafts[-1].invoice_id
        cursor.execute(
            f"SELECT idempotency_key, id FROM {table(LedgerTransaction)} "
            "WHERE invoice_id BETWEEN %s AND %s",
            [min(low, high), max(low, high)],
        )
        txn_ids = {key: tid for key, tid in cursor.fetchall() if key in legs_by_key}
        entries = [
            (txn_ids[key], account_id, amount, currency)
            for key, legs in legs_by_key.items()
            for account_id, amount in legs
        ]
        cursor.executemany(
            f"INSERT INTO {table(Entry)} (transaction_id, account_id, amount, currency) "
            "VALUES (%s, %s, %s, %s)",
            entries,
        )
    _check_zero_sum(min(txn_ids.values()), max(txn_ids.values()))


def _check_zero_sum(first_txn: int, last_txn: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT transaction_id FROM {table(Entry)} WHERE transaction_id BETWEEN %s AND %s "
            "GROUP BY transaction_id, currency HAVING SUM(amount) <> 0",
            [first_txn, last_txn],
        )
        if cursor.fetchone() is not None:
            raise UnbalancedTransaction()


def _update_balances(drafts: list[Draft], accounts: ChunkAccounts) -> None:
    """Prepaid: guarded (never below the floor); receivable: + amount left due; hot accounts: once."""
    account = table(Account)
    debits = [(d.paid, accounts.prepaid[d.customer_id][0], d.paid) for d in drafts if d.paid]
    dues = [
        (d.total - d.paid, accounts.receivable[d.customer_id]) for d in drafts if d.total != d.paid
    ]
    revenue = sum(d.excl for d in drafts)
    vat: dict[Decimal, int] = defaultdict(int)
    for d in drafts:
        for rate, amount in d.vat.items():
            vat[rate] += amount
    # Prepaid and VAT/revenue accounts are credit-normal: a debit entry lowers the shown balance.
    system: list[tuple[int, int]] = [(revenue, accounts.revenue_id)]
    system += [(v, accounts.vat_ids[r]) for r, v in vat.items()]
    with connection.cursor() as cursor:
        if debits:
            cursor.executemany(
                f"UPDATE {account} SET balance = balance - %s WHERE id = %s "
                "AND (floor IS NULL OR balance - %s >= floor)",
                debits,
            )
            if cursor.rowcount != len(debits):
                raise InsufficientFunds(account="prepaid")
        if dues:
            cursor.executemany(f"UPDATE {account} SET balance = balance + %s WHERE id = %s", dues)
        hot = sorted((row for row in system if row[0]), key=lambda row: row[1])
        cursor.executemany(f"UPDATE {account} SET balance = balance + %s WHERE id = %s", hot)


def issue_invoices(
    *,
    first_customer_id: int,
    last_customer_id: int,
    period_end: dt.date,
    issue_date: dt.date,
    actor: Actor,
    run_id: int | None = None,
) -> IssueResult:
    """Issue and settle the invoices of customers in the id range; the caller holds the transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("issue_invoices() must run inside a database transaction")
    accounts = _lock_accounts(first_customer_id, last_customer_id)
    drafts = _collect_drafts(first_customer_id, last_customer_id, period_end, run_id)
    result = IssueResult()
    if not drafts:
        return result
    _compute(drafts, accounts)
    for draft, number in zip(
        drafts, allocate_numbers(InvoiceKind.INVOICE, issue_date, len(drafts)), strict=True
    ):
        draft.number = number
    now = db_datetime(timezone.now())
    due_date = issue_date + dt.timedelta(days=settings.ENCAISSE_PAYMENT_TERMS_DAYS)
    _insert_invoices(drafts, issue_date=issue_date, due_date=due_date, run_id=run_id, now=now)
    faults.checkpoint("issuance.invoices_inserted")
    _attach_charges(drafts, period_end)
    _post_ledger(drafts, accounts, actor, now)
    faults.checkpoint("issuance.ledger_posted")
    _update_balances(drafts, accounts)
    faults.checkpoint("issuance.balances_updated")
    result.invoice_ids = [d.invoice_id for d in drafts]
    result.due_invoice_ids = [d.invoice_id for d in drafts if d.paid < d.total]
    result.total_cents = sum(d.total for d in drafts)
    result.settled_cents = sum(d.paid for d in drafts)
    return result


def issue_invoice_now(customer: Customer, *, period_end: dt.date, actor: Actor) -> Invoice | None:
    """Issue one customer's uninvoiced charges now (staff action, API), settling from the balance."""
    from django.db import transaction

    from .tasks import after_issuance

    with transaction.atomic():
        result = issue_invoices(
            first_customer_id=customer.pk,
            last_customer_id=customer.pk,
            period_end=period_end,
            issue_date=timezone.localdate(),
            actor=actor,
        )
        after_issuance(result.invoice_ids, result.due_invoice_ids)
    return Invoice.objects.filter(pk__in=result.invoice_ids).first()
