# SPDX-License-Identifier: AGPL-3.0-or-later
"""The statements of one issuance chunk, computed by the database over the whole chunk.

Python never touches a row of the chunk: a fixed number of ``INSERT … SELECT`` / ``UPDATE … FROM``
statements (about fifteen, whatever the chunk size) work from two per-connection scratch tables:

- ``issuance_rate``: per customer and VAT rate, the base (sum of the uninvoiced charges) and the
  VAT on it, rounded half-up to the cent in integer arithmetic — exactly ``core.money.vat_cents``
  (``round_half_up(base × rate / 100)`` with the rate stored in hundredths of a percent);
- ``issuance_draft``: per customer, the invoice being issued: totals, what the prepaid balance
  settles now (as much as the balance allows above its floor), its accounts, its buyer (the
  customer's current billing identity) and VAT rate or breakdown, its rank in the chunk
  (``seq``: its gapless number is ``first + seq − 1`` of the block taken from the sequence; the
  rank follows the customer id, so the drafts read in key order are in number order without a
  sort), and the ids its invoice and journal transaction will have (taken beforehand,
  :func:`encaisse.core.sql.new_id`, so that no statement reads an inserted row back);

Its journal transactions are posted by the ledger (:class:`encaisse.ledger.batch.Batch`) from
the legs and headers described here over the draft (:func:`leg_sources`, :func:`header_source`);
only the ledger writes the ledger's tables.

The tables are emptied at the start of each chunk (and by every COMMIT on PostgreSQL); they are
temporary, so each connection, hence each billing worker, has its own.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection

from encaisse.core.sql import (
    cents_text,
    greatest,
    json_array,
    json_object,
    least,
    new_id,
    table,
    temp_table,
    zero_padded,
)
from encaisse.customers.models import BillingIdentity
from encaisse.ledger import keys
from encaisse.ledger.batch import HeaderSource, LegSource, new_transaction_id
from encaisse.ledger.models import Account

from .exceptions import InvoicingError
from .models import Charge, Invoice, InvoiceKind
from .status import status_sql

RATE = "issuance_rate"
DRAFT = "issuance_draft"
_TABLES = {
    RATE: "customer_id bigint NOT NULL, rate bigint NOT NULL, base bigint NOT NULL, "
    "vat bigint NOT NULL, charges bigint NOT NULL, period_start date, period_end date, "
    "PRIMARY KEY (customer_id, rate)",
    DRAFT: "customer_id {key} PRIMARY KEY, seq bigint NOT NULL, "
    "charges bigint NOT NULL, period_start date, period_end date, excl bigint NOT NULL, "
    "vat bigint NOT NULL, total bigint NOT NULL, paid bigint NOT NULL, prepaid_id bigint NOT NULL, "
    "receivable_id bigint NOT NULL, invoice_id bigint NOT NULL, txn_id bigint NOT NULL, "
    "buyer_id bigint NOT NULL, vat_rate bigint, breakdown {json}",
}


def _run(sql: str, params: list[Any] | None = None) -> int:
    """Execute one statement (always with a parameter list, so ``%%`` means ``%``); rows touched."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.rowcount


def _rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def reset_tables() -> None:
    for name, columns in _TABLES.items():
        _run(temp_table(name, columns))
        _run(f"DELETE FROM {name}")


def _analyze(name: str) -> None:
    """PostgreSQL keeps no statistics on temporary tables (autovacuum skips them): without them it
    plans the joins with the chunk as if it were large, by sequential scans of the big tables.
    The row count and the join column are all the plans need."""
    if connection.vendor == "postgresql":
        _run(f"ANALYZE {name} (customer_id)")


def _vat_half_up(base: str, rate: str) -> str:
    """VAT cents on ``base`` cents at ``rate`` hundredths of a percent, half away from zero.

    Both operands must be integers (PostgreSQL's ``SUM(bigint)`` is ``numeric``: cast it), so that
    ``/`` truncates on both engines."""
    return (
        f"CASE WHEN {base} >= 0 THEN ({base} * {rate} + 5000) / 10000 "
        f"ELSE -((-{base} * {rate} + 5000) / 10000) END"
    )


def collect_rates(lo: int, hi: int, period_end: Any, run_id: int | None) -> int:
    """Total the chunk's uninvoiced charges per customer and rate; return the customers found."""
    # SQLite once walked every uninvoiced charge of the table through the (then plain) invoice_id
    # index, counting ``IS NULL`` as an equality; the hint keeps it on the (customer, period)
    # partial index whatever its statistics say.
    index = " INDEXED BY charge_uninvoiced" if connection.vendor == "sqlite" else ""
    already, params = "", [lo, hi, period_end]
    if run_id is not None:
        already = (
            f" AND customer_id NOT IN (SELECT customer_id FROM {table(Invoice)}"
            " WHERE billing_run_id = %s AND customer_id BETWEEN %s AND %s)"
        )
        params += [run_id, lo, hi]
    base = "CAST(SUM(amount) AS bigint)"
    _run(
        f"INSERT INTO {RATE} (customer_id, rate, base, vat, charges, period_start, period_end) "
        f"SELECT customer_id, vat_rate, SUM(amount), {_vat_half_up(base, 'vat_rate')}, "
        f"COUNT(*), MIN(period_start), MAX(period_end) FROM {table(Charge)}{index} "
        "WHERE invoice_id IS NULL AND customer_id BETWEEN %s AND %s AND period_start <= %s"
        f"{already} GROUP BY customer_id, vat_rate",
        params,
    )
    _analyze(RATE)
    ((customers,),) = _rows(f"SELECT COUNT(DISTINCT customer_id) FROM {RATE}")
    return int(customers)


def check_rates(vat_ids: dict[Decimal, int]) -> None:
    known = {int(rate * 100) for rate in vat_ids}
    unknown = [rate for (rate,) in _rows(f"SELECT DISTINCT rate FROM {RATE}") if rate not in known]
    if unknown:
        raise InvoicingError(f"VAT rates without a VAT account: {sorted(unknown)}")


def over_total(limit_cents: int) -> list[tuple[int, int]]:
    """(customer, total with VAT) of the chunk's customers whose invoice would exceed the limit
    (the rare path taken when :func:`fill_drafts` wrote fewer drafts than customers)."""
    return [
        (int(customer), int(total))
        for customer, total in _rows(
            f"SELECT customer_id, SUM(base + vat) FROM {RATE} GROUP BY customer_id "
            "HAVING SUM(base + vat) > %s",
            [limit_cents],
        )
    ]


def without_accounts() -> list[int]:
    """The chunk's customers with charges but no prepaid or no receivable account (the rare path
    taken when :func:`fill_drafts` found fewer of them than :func:`collect_rates`)."""
    account = table(Account)
    return [
        int(customer)
        for (customer,) in _rows(
            f"SELECT DISTINCT r.customer_id FROM {RATE} r WHERE "
            + " OR ".join(
                f"NOT EXISTS (SELECT 1 FROM {account} a WHERE a.customer_id = r.customer_id "
                f"AND a.kind = '{kind}')"
                for kind in ("prepaid", "receivable")
            )
            + " ORDER BY r.customer_id"
        )
    ]


def leave_out(customer_ids: list[int]) -> None:
    """Forget these customers for this chunk (their charges stay uninvoiced)."""
    marks = ", ".join(["%s"] * len(customer_ids))
    _run(f"DELETE FROM {RATE} WHERE customer_id IN ({marks})", list(customer_ids))
    _run(f"DELETE FROM {DRAFT}")


def fill_drafts(lo: int, hi: int, customers: int, limit_cents: int) -> int:
    """One draft per customer: totals, accounts, rank, ids, what the balance settles now, the
    invoice's buyer (the customer's latest billing identity: ``customers.identity`` writes one
    whenever a printed field changes) and its VAT rate, or its breakdown when it has several
    (built here, where chunks run in parallel, rather than in the invoice insert, which chunks
    take in turn).

    Every join with a big table also bounds it by the chunk's customer range (here and below), so
    that PostgreSQL reads the chunk's rows by index instead of hashing a sequential scan of the
    whole table, which it may otherwise prefer for a few thousand rows — once per chunk.

    Returns the drafts written: one per customer found by :func:`collect_rates`, or fewer when a
    customer has no prepaid or receivable account or an invoice total above ``limit_cents``; the
    caller must then set those aside and fill again, or the number block taken for ``customers``
    would have a gap. (The limit is tested here, on rows the statement computes anyway, rather
    than by a pass of its own: 2 % of a billing run's SQL work on SQLite for a rare case.)"""
    account = table(Account)
    available = greatest("0", "p.balance - COALESCE(p.floor, 0)")
    # The rank is taken in the grouped subquery, whose rows come out in customer order already:
    # over the joined rows SQLite would sort them again.
    ids = f"{new_id(Invoice, 't.seq')}, {new_transaction_id('t.seq')}"
    buyer = (
        f"(SELECT MAX(b.id) FROM {table(BillingIdentity)} b WHERE b.customer_id = t.customer_id)"
    )
    drafts = _run(
        f"INSERT INTO {DRAFT} (customer_id, seq, charges, period_start, period_end, excl, vat, "
        "total, paid, prepaid_id, receivable_id, invoice_id, txn_id, buyer_id, vat_rate, breakdown) "
        "SELECT t.customer_id, t.seq, t.charges, "
        f"t.period_start, t.period_end, t.excl, t.vat, t.excl + t.vat, "
        f"{least('t.excl + t.vat', available)}, p.id, q.id, {ids}, {buyer}, "
        f"CASE WHEN t.rates = 1 THEN t.rate END, CASE WHEN t.rates > 1 THEN {_breakdown()} END "
        "FROM (SELECT customer_id, SUM(charges) AS charges, MIN(period_start) AS period_start, "
        "MAX(period_end) AS period_end, SUM(base) AS excl, SUM(vat) AS vat, "
        "COUNT(*) AS rates, MIN(rate) AS rate, ROW_NUMBER() OVER (ORDER BY customer_id) AS seq "
        f"FROM {RATE} GROUP BY customer_id) t "
        f"JOIN {account} p ON p.customer_id = t.customer_id AND p.kind = 'prepaid' "
        f"JOIN {account} q ON q.customer_id = t.customer_id AND q.kind = 'receivable' "
        "WHERE p.customer_id BETWEEN %s AND %s AND q.customer_id BETWEEN %s AND %s "
        "AND t.excl + t.vat <= %s",
        [lo, hi, lo, hi, limit_cents],
    )
    if drafts == customers:
        _analyze(DRAFT)
    return drafts


def number_sql(prefix: str, first_number: int) -> tuple[str, list[Any]]:
    """SQL of the draft's gapless number, ``<prefix><first + seq − 1, six digits>``; the first
    number is ours (an int): inlined, as PostgreSQL's form repeats the expression."""
    return f"%s || {zero_padded(f'{int(first_number) - 1} + d.seq', 6)}", [prefix]


def _breakdown() -> str:
    """EN 16931 BG-23 of an invoice with several rates, as stored: one ``{"rate", "base",
    "vat"}`` per rate, by ascending rate (a single-rate invoice stores its rate alone).

    A subquery per invoice, by the scratch table's primary key: aggregating it with the draft
    instead (``GROUP BY`` customer) measured slower on PostgreSQL at 1 M (an ordered aggregate
    sorts each group apart)."""
    item = json_object(
        {"rate": cents_text("rate"), "base": cents_text("base"), "vat": cents_text("vat")}
    )
    return json_array(item, f"FROM {RATE} r WHERE r.customer_id = t.customer_id", "rate")


def insert_invoices(
    number: tuple[str, list[Any]], *, issue: Any, due: Any, run_id: int | None, now: Any
) -> None:
    """The invoices, numbered, from their drafts."""
    status = status_sql("d.total", "d.paid")
    number_sql, number_params = number
    kind, currency = InvoiceKind.INVOICE.value, settings.ENCAISSE_CURRENCY
    _run(
        f"INSERT INTO {table(Invoice)} (id, number, kind, customer_id, issue_date, due_date, "
        "period_start, period_end, currency, total_excl_vat, total_vat, total_incl_vat, "
        "vat_rate, vat_breakdown_rows, buyer_id, billing_run_id, paid, credited, status, pdf, "
        f"created_at) SELECT d.invoice_id, {number_sql}, %s, d.customer_id, %s, %s, "
        "d.period_start, d.period_end, %s, d.excl, d.vat, d.total, d.vat_rate, d.breakdown, "
        f"d.buyer_id, %s, d.paid, 0, {status}, '', %s "
        f"FROM {DRAFT} d ORDER BY d.customer_id",
        [*number_params, kind, issue, due, currency, run_id, now],
    )


def attach_charges(lo: int, hi: int, period_end: Any) -> None:
    """Put the totalled charges on their invoice; any other count means a concurrent change.

    The customer range lets SQLite read only the chunk's part of the partial index (it would scan
    the whole of it, every uninvoiced charge of the table, for each chunk)."""
    charge = table(Charge)
    index = " INDEXED BY charge_uninvoiced" if connection.vendor == "sqlite" else ""
    attached = _run(
        f"UPDATE {charge}{index} SET invoice_id = d.invoice_id FROM {DRAFT} d "
        f"WHERE {charge}.customer_id = d.customer_id AND {charge}.invoice_id IS NULL "
        f"AND {charge}.customer_id BETWEEN %s AND %s AND {charge}.period_start <= %s",
        [lo, hi, period_end],
    )
    ((expected,),) = _rows(f"SELECT COALESCE(SUM(charges), 0) FROM {DRAFT}")
    if attached != expected:
        raise InvoicingError("charges changed while invoices were being issued; retry")


def leg_sources(revenue_id: int, vat_ids: dict[Decimal, int]) -> list[LegSource]:
    """The legs of each invoice's journal transaction, ``invoice:<id>:issued``, which issues it
    and settles what the balance covers: Dr prepaid (paid), Dr receivable (total − paid), Cr
    revenue (excl.), Cr VAT per rate. The ledger leaves out legs of zero, so a paid invoice does
    not touch its receivable. The customer's two accounts move once per invoice, one invoice per
    customer: their own legs; revenue and VAT are shared by every invoice."""
    vat_account = " ".join(f"WHEN {int(r * 100)} THEN {pk}" for r, pk in vat_ids.items())
    draft = f"{DRAFT} d"
    return [
        LegSource(txn="d.txn_id", account="d.prepaid_id", amount="d.paid", source=draft),
        LegSource(
            txn="d.txn_id", account="d.receivable_id", amount="d.total - d.paid", source=draft
        ),
        LegSource(
            txn="d.txn_id",
            account=str(int(revenue_id)),
            amount="-d.excl",
            source=draft,
            shared=True,
        ),
        LegSource(
            txn="d.txn_id",
            account=f"CASE r.rate {vat_account} END",
            amount="-r.vat",
            source=f"{RATE} r JOIN {DRAFT} d ON d.customer_id = r.customer_id",
            shared=True,
        ),
    ]


def header_source(number: tuple[str, list[Any]]) -> HeaderSource:
    """The journal transactions of the legs above: one per invoice with a non-zero total, keyed
    ``invoice:<id>:issued`` and described with the invoice's number and what the balance paid."""
    number_sql, number_params = number

    outcomes = [" issued", " issued, paid from balance", " issued, partly paid from balance"]
    return HeaderSource(
        id="d.txn_id",
        key=keys.invoice_issued_sql("d.invoice_id"),
        description=f"%s || {number_sql} || "
        "CASE WHEN d.paid = 0 THEN %s WHEN d.paid = d.total THEN %s ELSE %s END",
        description_params=["Invoice ", *number_params, *outcomes],
        customer="d.customer_id",
        invoice="d.invoice_id",
        source=f"{DRAFT} d",
        where="d.total <> 0",
        order_by="d.customer_id",
    )


def results() -> list[tuple[int, int, int]]:
    """(invoice id, total, paid) of the chunk's invoices, in number order."""
    return [
        (int(i), int(total), int(paid))
        for i, total, paid in _rows(
            f"SELECT invoice_id, total, paid FROM {DRAFT} ORDER BY customer_id"
        )
    ]
