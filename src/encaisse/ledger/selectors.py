# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reading the ledger: balances, movements, and the conservation checks (I1–I3).

:func:`check_ledger` is set-based (three aggregate queries over the whole ledger) so it can run
after every test and nightly in production (``encaisse checkledger``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet

from encaisse.core.sql import table
from encaisse.customers.models import Customer

from .models import Account, AccountKind, Entry, LedgerTransaction


@dataclass
class CustomerBalance:
    prepaid: Decimal
    due: Decimal
    floor: Decimal

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
    )


def customer_movements(customer: Customer) -> QuerySet[Entry]:
    """Entries of the customer's prepaid account, newest first, with their transaction."""
    return (
        Entry.objects.filter(account__customer=customer, account__kind=AccountKind.PREPAID)
        .select_related("transaction")
        .order_by("-transaction_id", "-id")
    )


@dataclass
class LedgerReport:
    unbalanced_transactions: list[int] = field(default_factory=list)
    drifted_accounts: list[str] = field(default_factory=list)
    below_floor_accounts: list[str] = field(default_factory=list)
    transactions: int = 0
    entries: int = 0

    @property
    def ok(self) -> bool:
        return not (
            self.unbalanced_transactions or self.drifted_accounts or self.below_floor_accounts
        )


def check_ledger() -> LedgerReport:
    """Zero-sum per transaction and currency; stored balance = recomputed; floors respected."""
    report = LedgerReport()
    entry, account = table(Entry), table(Account)
    with connection.cursor() as cursor:
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
    report.transactions = LedgerTransaction.objects.count()
    report.entries = Entry.objects.count()
    return report
