# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reading the ledger: balances, movements, and the conservation checks (I1–I3).

:func:`check_ledger` is set-based (three aggregate queries over the whole ledger) so it can run
after every test and nightly in production (``encaisse checkledger``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from encaisse.core.fields import CentsField
from encaisse.core.money import MAX_STORED
from encaisse.core.sql import table

from .models import Account, AccountKind, Entry, LedgerTransaction

if TYPE_CHECKING:  # the customers app is a layer above the ledger
    from encaisse.customers.models import Customer


@dataclass
class CustomerBalance:
    prepaid: Decimal
    due: Decimal
    floor: Decimal
    # The prepaid account read for these figures (callers reading its history reuse it).
    prepaid_account: Account | None = field(default=None, repr=False, compare=False)

    @property
    def available(self) -> Decimal:
        return self.prepaid - self.floor


def customer_balance(customer: Customer) -> CustomerBalance:
    accounts = {a.kind: a for a in Account.objects.filter(customer=customer)}
    prepaid = accounts[AccountKind.PREPAID]
    return CustomerBalance(
        prepaid=prepaid.balance,
        due=accounts[AccountKind.RECEIVABLE].balance,
        floor=prepaid.floor if prepaid.floor is not None else Decimal(0),
        prepaid_account=prepaid,
    )


def customer_movements(customer: Customer) -> QuerySet[Entry]:
    """Entries of the customer's prepaid account, newest first, with their transaction."""
    return (
        Entry.objects.filter(account__customer=customer, account__kind=AccountKind.PREPAID)
        .select_related("transaction")
        .annotate(invoice_number=F("transaction__invoice__number"))
        .order_by("-transaction_id", "-id")
    )


def prepaid_account(customer: Customer) -> Account:
    return Account.objects.get(customer=customer, kind=AccountKind.PREPAID)


def filter_movements(
    movements: QuerySet[Entry],
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    kind: str | None = None,
) -> QuerySet[Entry]:
    """Narrow :func:`customer_movements` to a date range (inclusive, local days) and a kind."""
    if since is not None:
        movements = movements.filter(transaction__created_at__date__gte=since)
    if until is not None:
        movements = movements.filter(transaction__created_at__date__lte=until)
    if kind:
        movements = movements.filter(transaction__kind=kind)
    return movements


def month_starts(today: dt.date, months: int) -> list[dt.date]:
    """First days of the ``months`` months ending with ``today``'s, oldest first."""
    index = today.year * 12 + today.month - 1
    return [dt.date(i // 12, i % 12 + 1, 1) for i in range(index - months + 1, index + 1)]


def balance_history(account: Account, *, months: int = 12) -> list[tuple[dt.date, Decimal]]:
    """The balance at the end of each of the last ``months`` months (the current one: now).

    One aggregate query: the stored balance (exact, I2) minus what each later month moved. The
    points are in the account's natural orientation, like ``Account.balance``.
    """
    today = timezone.localdate()
    starts = month_starts(today, months)
    start = timezone.make_aware(dt.datetime.combine(starts[0], dt.time()))
    moved = {
        row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]: row["total"]
        for row in Entry.objects.filter(account=account, transaction__created_at__gte=start)
        .annotate(month=TruncMonth("transaction__created_at"))
        .values("month")
        .annotate(total=Sum("amount"))
    }
    points, balance = [], account.balance
    for month in reversed(starts):
        points.append((month, balance))
        balance -= account.normal_sign * (moved.get(month) or Decimal(0))
    return list(reversed(points))


@dataclass
class LedgerReport:
    unbalanced_transactions: list[int] = field(default_factory=list)
    drifted_accounts: list[str] = field(default_factory=list)
    below_floor_accounts: list[str] = field(default_factory=list)
    #: Money columns holding a non-integer (SQLite) or a value beyond ``MAX_STORED``.
    out_of_bounds: list[str] = field(default_factory=list)
    transactions: int = 0
    entries: int = 0

    @property
    def ok(self) -> bool:
        return not (
            self.unbalanced_transactions
            or self.drifted_accounts
            or self.below_floor_accounts
            or self.out_of_bounds
        )


def _out_of_bounds(cursor: Any) -> list[str]:
    """Entries and accounts whose amount is not whole cents within ±``MAX_STORED``.

    Checked first and without summing: a float or an overflowing value (a database from before
    the CHECK constraints of migration 0008) would make the sums below wrong or fail."""
    entry, account = table(Entry), table(Account)
    found: list[str] = []
    for name, tbl, column, label in (
        ("entry", entry, "amount", "id"),
        ("account", account, "balance", "code"),
    ):
        bad = f"{column} NOT BETWEEN %s AND %s"
        if connection.vendor == "sqlite":
            bad = f"typeof({column}) <> 'integer' OR {bad}"
        cursor.execute(
            f"SELECT {label} FROM {tbl} WHERE {bad} ORDER BY id LIMIT 100",
            [-MAX_STORED, MAX_STORED],
        )
        found += [f"{name} {row[0]}" for row in cursor.fetchall()]
    return found


def check_ledger() -> LedgerReport:
    """Zero-sum per transaction and currency; stored balance = recomputed; floors respected;
    every amount whole cents within bounds (checked first: the sums are only taken when it holds).
    """
    report = LedgerReport()
    report.transactions = LedgerTransaction.objects.count()
    report.entries = Entry.objects.count()
    entry, account = table(Entry), table(Account)
    with connection.cursor() as cursor:
        report.out_of_bounds = _out_of_bounds(cursor)
        if report.out_of_bounds:
            return report
        cursor.execute(
            f"SELECT transaction_id FROM {entry} GROUP BY transaction_id, currency "
            "HAVING SUM(amount) <> 0 ORDER BY transaction_id LIMIT 100"
        )
        report.unbalanced_transactions = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"SELECT a.code FROM {account} a LEFT JOIN (SELECT account_id, SUM(amount) AS total "
            f"FROM {entry} GROUP BY account_id) e ON e.account_id = a.id "
            "WHERE a.balance <> a.normal_sign * COALESCE(e.total, 0) ORDER BY a.id LIMIT 100"
        )
        report.drifted_accounts = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"SELECT code FROM {account} WHERE floor IS NOT NULL AND balance < floor LIMIT 100"
        )
        report.below_floor_accounts = [row[0] for row in cursor.fetchall()]
    return report


@dataclass(frozen=True)
class CustomerAccountTotals:
    """The customers' accounts summed, in their natural orientation (as ``Account.balance``)."""

    prepaid_held: Decimal  # positive prepaid balances: money held for customers
    customers_in_credit: int
    overdraft_used: Decimal  # negative prepaid balances, as a positive amount owed
    receivable: Decimal  # amounts due: invoices left unpaid and reversal debts

    @property
    def owed(self) -> Decimal:
        """Everything customers owe: what is due plus the overdraft they have used."""
        return self.receivable + self.overdraft_used


def customer_account_totals() -> CustomerAccountTotals:
    """One aggregate query over the cached balances (exact: they equal the entries, I2)."""
    prepaid, receivable = Q(kind=AccountKind.PREPAID), Q(kind=AccountKind.RECEIVABLE)
    in_credit = prepaid & Q(balance__gt=0)
    totals = Account.objects.filter(customer__isnull=False).aggregate(
        prepaid_held=Sum("balance", filter=in_credit, default=0),
        customers_in_credit=Count("id", filter=in_credit),
        overdraft=Sum("balance", filter=prepaid & Q(balance__lt=0), default=0),
        receivable=Sum("balance", filter=receivable, default=0),
    )
    return CustomerAccountTotals(
        prepaid_held=totals["prepaid_held"],
        customers_in_credit=totals["customers_in_credit"],
        overdraft_used=-totals["overdraft"],
        receivable=totals["receivable"],
    )


def customer_transactions(customer: Customer) -> QuerySet[LedgerTransaction]:
    """The customer's journal transactions, newest first, each with what it changed.

    ``prepaid_change`` (positive: credited to the prepaid balance) and ``due_change`` (positive:
    more is due) are summed from the entries in the same query, in the accounts' orientation.
    """
    on_customer = Q(entries__account__customer=customer)
    prepaid = on_customer & Q(entries__account__kind=AccountKind.PREPAID)
    receivable = on_customer & Q(entries__account__kind=AccountKind.RECEIVABLE)
    return (
        LedgerTransaction.objects.filter(customer=customer)
        .select_related("invoice")
        .annotate(
            prepaid_change=Sum(
                F("entries__amount") * -1, filter=prepaid, default=0, output_field=CentsField()
            ),
            due_change=Sum("entries__amount", filter=receivable, default=0),
        )
        .order_by("-id")
    )
