# SPDX-License-Identifier: AGPL-3.0-or-later
"""Set-based posting: thousands of journal transactions in a fixed number of statements.

:func:`encaisse.ledger.services.post` writes one transaction through the ORM; a bulk path (the
billing run now, SEPA batches and statement imports next) describes its transactions in SQL over
its own scratch tables and hands them to a :class:`Batch`, which alone writes the ledger's tables
and applies the same rules as ``post()`` (ledger-and-reliability.md §1, invariants I1–I5):

- **zero sum** (I1): every transaction's legs sum to zero; no leg of zero; at least two legs;
  checked on the very rows that are then copied into the entries;
- **the floor** (I3): every balance update is guarded (never below the account's floor; the
  database CHECK is the backstop), and an update that the guard refuses fails the batch;
- **one lock order** (no deadlock with the single postings): the customers' accounts first, in
  ascending id (:meth:`Batch.lock_customer_accounts`), the shared system accounts (revenue, VAT,
  bank, PSP clearing) last, in ascending id, at the very end of the caller's transaction
  (:meth:`Batch.apply_shared_balances`), so concurrent batches hold them only until COMMIT;
- **idempotency** (I4): each transaction carries the key of its source (``ledger.keys``), unique
  in the database: a batch that meets a key already posted fails whole;
- **completeness**: :meth:`Batch.close` checks that every transaction staged has its header and
  every balance was moved, so a batch can never be left half-posted inside a committed transaction.

The caller owns the order of the header insert relative to the entries (the billing run writes
parents first on SQLite and takes its invoice numbers last on PostgreSQL, ``invoicing.issuance``);
the batch refuses any other order of its own steps.

Legs are staged in a per-connection scratch table, ``ledger_batch_leg``, clustered by (transaction,
leg, account) on SQLite, so that the zero-sum check streams through it without a sort and the
entries are copied in key order. A leg is either a customer's own (``shared=False``: each such
account moves by at most one leg per batch, so its balance is updated straight from the leg, and
a second leg on it fails the batch's row count) or on a shared account (``shared=True``: summed per
account, then one update per account). The flag is only about speed: both paths guard the floor.

Writing SQL by hand here rather than through the ORM is what makes a million invoices an hour's
work instead of a day's (docs/benchmarks.md); the statements are plain SQL on both engines.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

from encaisse.core.actors import Actor
from encaisse.core.sql import new_id, table, temp_table

from .exceptions import InsufficientFunds, UnbalancedTransaction
from .models import Account, Entry, LedgerTransaction, TransactionKind

LEGS = "ledger_batch_leg"
_LEGS_COLUMNS = (
    "txn bigint NOT NULL, leg bigint NOT NULL, account bigint NOT NULL, amount bigint NOT NULL, "
    "shared smallint NOT NULL, PRIMARY KEY (txn, leg, account)"
)


class BatchError(RuntimeError):
    """A batch used out of order or left incomplete: a programming error, never user input."""


@dataclass(frozen=True)
class LegSource:
    """Legs read from the caller's scratch table: one leg per row of ``source`` (an SQL ``FROM``
    clause) that satisfies ``where``, for the transaction ``txn`` on ``account`` of ``amount``
    cents (> 0 debits, < 0 credits), each an SQL expression. Rows whose amount is zero give no
    leg. Values are inlined integers or come from the caller's tables: no parameters."""

    txn: str
    account: str
    amount: str
    source: str
    where: str = ""
    shared: bool = False


@dataclass(frozen=True)
class HeaderSource:
    """The journal transactions of the batch, one per row of ``source``: their ``id`` (the one
    the legs name), idempotency ``key`` (``ledger.keys``), ``description``, ``customer`` and
    ``invoice`` ids, each an SQL expression; ``description_params`` fill the ``%s`` of
    ``description`` (the only text that takes values from Python: the rest is inlined integers,
    the caller's columns or ``ledger.keys``' SQL). Inserted in ``order_by`` order."""

    id: str
    key: str
    description: str
    customer: str
    invoice: str
    source: str
    where: str = ""
    order_by: str = ""
    description_params: Sequence[Any] = ()


class _Step(enum.IntEnum):
    OPEN = 0
    STAGED = 1
    CLOSED = 2


def _run(sql: str, params: Sequence[Any] = ()) -> int:
    """Execute one statement (always with a parameter list, so ``%%`` means ``%``); rows touched."""
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.rowcount


def _rows(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def new_transaction_id(ordinal: str) -> str:
    """SQL of the id the ``ordinal``-th (1, 2, …) transaction of the batch will have, taken before
    any insert so that the caller's scratch rows can name it (:func:`encaisse.core.sql.new_id`)."""
    return new_id(LedgerTransaction, ordinal)


@dataclass
class Batch:
    """One set-based posting of transactions of one ``kind``, inside the caller's transaction.

    ``customers`` bounds the ids of the customers whose accounts the batch moves: their accounts
    are locked (PostgreSQL) and only theirs may move by a customer leg (it also lets PostgreSQL
    read those accounts by index). Steps, in order: :meth:`lock_customer_accounts`,
    :meth:`stage` (legs, checked), then in the caller's order :meth:`insert_entries`,
    :meth:`apply_customer_balances` and :meth:`insert_transactions`, then
    :meth:`apply_shared_balances` and :meth:`close`.
    """

    kind: TransactionKind
    actor: Actor
    customers: tuple[int, int]
    _step: _Step = _Step.OPEN
    _transactions: int = 0
    _own_legs: int = 0
    _done: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not connection.in_atomic_block:
            raise BatchError("a batch posts inside the caller's database transaction")

    def lock_customer_accounts(self) -> None:
        """Lock the accounts of the batch's customers in ascending id order (PostgreSQL; SQLite's
        IMMEDIATE transaction already excludes other writers): first in every money path."""
        if connection.vendor != "postgresql":
            return
        lo, hi = self.customers
        _run(
            f"SELECT COUNT(*) FROM (SELECT id FROM {table(Account)} "
            "WHERE customer_id BETWEEN %s AND %s ORDER BY id FOR UPDATE) AS locked",
            [lo, hi],
        )

    def stage(self, legs: Sequence[LegSource]) -> int:
        """Stage every leg of the batch and check each transaction (I1); the transactions found.

        Leg numbers follow the order of ``legs``, which is the order of the entries. The
        customers' own legs and the shared ones go in two statements, whose row counts give
        the number of customer balances to move without another pass over the legs."""
        self._expect(_Step.OPEN)
        _run(temp_table(LEGS, _LEGS_COLUMNS, clustered=True))
        _run(f"DELETE FROM {LEGS}")
        numbered = list(enumerate(legs, start=1))
        self._own_legs = self._insert_legs([(n, s) for n, s in numbered if not s.shared])
        self._insert_legs([(n, s) for n, s in numbered if s.shared])
        # One pass over the legs, in key order (no sort): each transaction sums to zero. A
        # transaction of a single leg cannot: its one leg is not zero (zero legs are left out).
        ((transactions, unbalanced),) = _rows(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN s <> 0 THEN 1 ELSE 0 END), 0) "
            f"FROM (SELECT SUM(amount) AS s FROM {LEGS} GROUP BY txn) t"
        )
        if unbalanced:
            raise UnbalancedTransaction()
        self._transactions = int(transactions)
        self._step = _Step.STAGED
        return self._transactions

    @staticmethod
    def _insert_legs(legs: Sequence[tuple[int, LegSource]]) -> int:
        if not legs:
            return 0
        selects = [
            f"SELECT {s.txn}, {number}, {s.account}, {s.amount}, {int(s.shared)} FROM {s.source} "
            f"WHERE {f'({s.where}) AND ' if s.where else ''}({s.amount}) <> 0"
            for number, s in legs
        ]
        return _run(
            f"INSERT INTO {LEGS} (txn, leg, account, amount, shared) {' UNION ALL '.join(selects)}"
        )

    def insert_entries(self) -> None:
        """Copy the staged legs into the entries, in (transaction, leg, account) order."""
        self._once("entries")
        _run(
            f"INSERT INTO {table(Entry)} (transaction_id, account_id, amount, currency) "
            f"SELECT txn, account, amount, %s FROM {LEGS} ORDER BY txn, leg, account",
            [settings.ENCAISSE_CURRENCY],
        )

    def apply_customer_balances(self) -> None:
        """Move each customer account by its leg, guarded by the floor (I3); any leg refused (or
        a second leg on one account, or an account outside the batch's customers) fails."""
        self._once("customer balances")
        account, (lo, hi) = table(Account), self.customers
        moved = f"{account}.balance + {account}.normal_sign * l.amount"
        updated = _run(
            f"UPDATE {account} SET balance = {moved} FROM {LEGS} l "
            f"WHERE {account}.id = l.account AND l.shared = 0 "
            f"AND ({account}.floor IS NULL OR {moved} >= {account}.floor) "
            f"AND {account}.customer_id BETWEEN %s AND %s",
            [lo, hi],
        )
        if updated != self._own_legs:
            raise InsufficientFunds(account="prepaid")

    def insert_transactions(self, headers: HeaderSource, *, at: Any) -> None:
        """The journal transactions the legs belong to, with the batch's kind and actor, dated
        ``at`` (a database value: ``core.sql.db_datetime``)."""
        self._once("transactions")
        actor = self.actor.fields()
        where = f" WHERE {headers.where}" if headers.where else ""
        order = f" ORDER BY {headers.order_by}" if headers.order_by else ""
        inserted = _run(
            f"INSERT INTO {table(LedgerTransaction)} (id, idempotency_key, kind, description, "
            "reason, created_at, customer_id, invoice_id, actor_kind, actor_id, actor_label) "
            f"SELECT {headers.id}, {headers.key}, %s, {headers.description}, '', %s, "
            f"{headers.customer}, {headers.invoice}, %s, %s, %s FROM {headers.source}{where}{order}",
            [
                self.kind.value,
                *headers.description_params,
                at,
                actor["actor_kind"],
                actor["actor_id"],
                actor["actor_label"],
            ],
        )
        if inserted != self._transactions:
            raise BatchError(f"{inserted} transaction headers for {self._transactions} staged")

    def apply_shared_balances(self) -> None:
        """The shared accounts, summed per account and updated in ascending id order, last."""
        if self._done != {"entries", "customer balances", "transactions"}:
            raise BatchError(f"shared balances before {self._done} were all done")
        self._once("shared balances")
        # GROUP BY returns the accounts in ascending order: the lock order.
        sums = _rows(f"SELECT account, SUM(amount) FROM {LEGS} WHERE shared = 1 GROUP BY account")
        moved = "balance + normal_sign * %s"
        for account_id, amount in sums:
            if not amount:
                continue
            if not _run(
                f"UPDATE {table(Account)} SET balance = {moved} WHERE id = %s "
                f"AND (floor IS NULL OR {moved} >= floor)",
                [int(amount), int(account_id), int(amount)],
            ):
                raise InsufficientFunds(account=str(account_id))

    def close(self) -> None:
        """Every step done: nothing of the batch is left half-posted."""
        if "shared balances" not in self._done:
            raise BatchError(f"batch closed after {sorted(self._done)} only")
        self._step = _Step.CLOSED

    def _expect(self, step: _Step) -> None:
        if self._step != step:
            raise BatchError(f"batch step out of order (at {self._step.name})")

    def _once(self, name: str) -> None:
        self._expect(_Step.STAGED)
        if name in self._done:
            raise BatchError(f"{name} posted twice")
        self._done.add(name)
