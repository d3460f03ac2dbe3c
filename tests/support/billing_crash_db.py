# SPDX-License-Identifier: AGPL-3.0-or-later
"""Seed and verify a database for the kill -9 test of the billing run (test_billing_faults.py).

Run as a script against the database the environment points to (``ENCAISSE_DATA_DIR`` for
SQLite or ``DATABASE_URL``), in a fresh process like ``encaisse bill`` itself::

    python tests/support/billing_crash_db.py seed --customers 2400 --seed 7
    python tests/support/billing_crash_db.py verify --period 2026-11

``seed`` writes in one transaction, with bulk inserts (seconds for thousands of customers):
customers with their prepaid and receivable accounts (a tenth with an overdraft), 1–3 charges for
the period on most of them plus a few charges of the next month (which must stay uninvoiced), and
prepaid balances that are zero, enough, or partial for what they will be billed. Every balance
is a real top-up (a balanced journal transaction crediting the prepaid account from the bank
account, keyed like ``record_top_up`` keys it), and the script refuses to finish unless
``check_ledger()`` is clean.

``verify`` recomputes from the database what the billing of the period must have produced and
prints one JSON object of counts (the test asserts each is what a correct run gives).
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import json
import os
import random
import sys
from collections import defaultdict
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "encaisse.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from encaisse.core.actors import Actor  # noqa: E402
from encaisse.core.money import line_cents, vat_cents  # noqa: E402
from encaisse.core.sequences import allocate  # noqa: E402
from encaisse.customers.models import Customer  # noqa: E402
from encaisse.customers.numbers import format_number  # noqa: E402
from encaisse.invoicing.models import BillingRun, Charge, Invoice  # noqa: E402
from encaisse.ledger.accounts import customer_account_code, system_account  # noqa: E402
from encaisse.ledger.models import (  # noqa: E402
    NORMAL_SIGN,
    Account,
    AccountKind,
    Entry,
    LedgerTransaction,
    TransactionKind,
)
from encaisse.ledger.selectors import check_ledger  # noqa: E402

ACTOR = Actor.system("crash-test-seed")
CENT = Decimal("0.01")


def _period(value: str) -> tuple[dt.date, dt.date]:
    year, month = (int(part) for part in value.split("-"))
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _invoice_total(lines: list[tuple[int, Decimal]]) -> int:
    """Total incl. VAT in cents of an invoice of (net cents, rate) lines: VAT once per rate."""
    bases: dict[Decimal, int] = defaultdict(int)
    for cents, rate in lines:
        bases[rate] += cents
    return sum(bases.values()) + sum(vat_cents(base, rate) for rate, base in bases.items())


def seed(customers: int, seed_value: int, period: str) -> dict:
    rng = random.Random(seed_value)
    start, end = _period(period)
    next_start = end + dt.timedelta(days=1)
    next_end = dt.date(next_start.year, next_start.month, 28)
    rates = list(settings.ENCAISSE_VAT_RATES)
    now = timezone.now()
    stats = {"customers": customers, "zero": 0, "enough": 0, "partial": 0, "no_charges": 0}
    with transaction.atomic():
        numbers = allocate("customer", customers)
        rows = Customer.objects.bulk_create(
            [
                Customer(
                    number=format_number(n),
                    name=f"Client {n}",
                    email=f"client{n}@example.org",
                    kind="company",
                    address_line1=f"{n} rue de la Paix",
                    postal_code="75002",
                    city="Paris",
                    country="FR",
                )
                for n in numbers
            ],
            batch_size=500,
        )
        accounts, charges, balances = [], [], {}
        for customer in rows:
            overdraft = rng.choice([0] * 9 + [1500])  # cents: a tenth may go to -15.00
            lines = []
            if rng.random() < 0.08:
                stats["no_charges"] += 1
            else:
                for _ in range(rng.randint(1, 3)):
                    quantity = Decimal(rng.randint(1, 3))
                    price = Decimal(rng.randint(50, 600_000)).scaleb(-4)  # 0.0050–60.0000
                    rate = rng.choice(rates)
                    lines.append((line_cents(quantity, price), rate))
                    charges.append(_charge(customer, quantity, price, rate, start, end))
            if rng.random() < 0.1:  # next month's usage, already known: must not be billed now
                charges.append(
                    _charge(customer, Decimal(1), Decimal("9.90"), rates[0], next_start, next_end)
                )
            total = _invoice_total(lines)
            kind = rng.choice(["zero", "enough", "partial"]) if total > 1 else "enough"
            stats[kind] += 1
            if kind == "zero":
                balance = 0
            elif kind == "enough":
                balance = total + rng.randint(0, 5_000)
            else:
                balance = rng.randint(1, total - 1)
            if balance:
                balances[customer.pk] = balance
            for kind_, floor in (
                (AccountKind.PREPAID, -overdraft),
                (AccountKind.RECEIVABLE, None),
            ):
                accounts.append(
                    Account(
                        code=customer_account_code(customer.pk, kind_),
                        kind=kind_,
                        customer=customer,
                        currency=settings.ENCAISSE_CURRENCY,
                        normal_sign=NORMAL_SIGN[kind_],
                        floor=None if floor is None else Decimal(floor) * CENT,
                        balance=Decimal(balances.get(customer.pk, 0) if floor is not None else 0)
                        * CENT,
                    )
                )
        Account.objects.bulk_create(accounts, batch_size=1000)
        Charge.objects.bulk_create(charges, batch_size=1000)
        _top_ups(balances, now)
        report = check_ledger()
        if not report.ok:
            raise SystemExit(f"seeding left an inconsistent ledger: {report}")
    stats["charges"] = len(charges)
    stats["ledger_transactions"] = report.transactions
    return stats


def _charge(customer, quantity, price, rate, start, end) -> Charge:
    return Charge(
        customer=customer,
        description="Hébergement",
        quantity=quantity,
        unit_price=price,
        vat_rate=rate,
        amount=Decimal(line_cents(quantity, price)) * CENT,
        period_start=start,
        period_end=end,
        **ACTOR.fields(),
    )


def _top_ups(balances: dict[int, int], now) -> None:
    """One balanced top-up per funded customer: debit the bank, credit the prepaid account."""
    bank = system_account(AccountKind.BANK, "main")
    prepaid = dict(
        Account.objects.filter(
            customer_id__in=list(balances), kind=AccountKind.PREPAID
        ).values_list("customer_id", "pk")
    )
    txns = LedgerTransaction.objects.bulk_create(
        [
            LedgerTransaction(
                idempotency_key=f"topup:bank_transfer:seed-{customer_id}",
                kind=TransactionKind.TOP_UP,
                description="Top-up by bank transfer (seed)",
                created_at=now,
                customer_id=customer_id,
                **ACTOR.fields(),
            )
            for customer_id in balances
        ],
        batch_size=1000,
    )
    entries = []
    for txn, (customer_id, cents) in zip(txns, balances.items(), strict=True):
        amount = Decimal(cents) * CENT
        entries.append(Entry(transaction=txn, account=bank, amount=amount, currency="EUR"))
        entries.append(
            Entry(transaction=txn, account_id=prepaid[customer_id], amount=-amount, currency="EUR")
        )
    Entry.objects.bulk_create(entries, batch_size=2000)
    total = Decimal(sum(balances.values())) * CENT
    Account.objects.filter(pk=bank.pk).update(balance=bank.balance + total)


def _money_checks(invoices: dict, per_customer: dict, lines: dict) -> dict[str, int]:
    """Per customer: balance = initial top-ups - settled, settled = min(total, available), once."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.invoice_id, COUNT(DISTINCT t.id), SUM(e.amount) FROM ledger_entry e "
            "JOIN ledger_ledgertransaction t ON t.id = e.transaction_id "
            "JOIN ledger_account a ON a.id = e.account_id "
            "WHERE t.kind IN ('invoice_issued', 'invoice_settled') AND a.kind = 'prepaid' "
            "GROUP BY t.invoice_id"
        )
        settlements = {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
        cursor.execute(
            "SELECT a.customer_id, -SUM(e.amount) FROM ledger_entry e "
            "JOIN ledger_ledgertransaction t ON t.id = e.transaction_id "
            "JOIN ledger_account a ON a.id = e.account_id "
            "WHERE t.kind = 'top_up' AND a.kind = 'prepaid' GROUP BY a.customer_id"
        )
        initial = dict(cursor.fetchall())
        cursor.execute(
            "SELECT customer_id, balance, floor FROM ledger_account WHERE kind = 'prepaid'"
        )
        prepaid = {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
        cursor.execute("SELECT customer_id, balance FROM ledger_account WHERE kind = 'receivable'")
        receivable = dict(cursor.fetchall())

    wrong_balance, wrong_paid, wrong_total, debited_twice = set(), set(), set(), set()
    for customer_id, (balance, floor) in prepaid.items():
        pks = per_customer.get(customer_id, [])
        settled = sum(settlements.get(pk, (0, 0))[1] for pk in pks)
        start_balance = initial.get(customer_id, 0)
        if balance != start_balance - settled:
            wrong_balance.add(customer_id)
        if any(settlements.get(pk, (0, 0))[0] > 1 for pk in pks):
            debited_twice.add(customer_id)
        for pk in pks:
            inv = invoices[pk]
            total = int(inv["total_incl_vat"] * 100)
            expected_paid = min(total, max(0, start_balance - (floor or 0)))
            if int(inv["paid"] * 100) != expected_paid or settlements.get(pk, (0, 0))[1] != int(
                inv["paid"] * 100
            ):
                wrong_paid.add(customer_id)
            if total != _invoice_total(lines[customer_id]):
                wrong_total.add(customer_id)
            if receivable[customer_id] != total - int(inv["paid"] * 100):
                wrong_balance.add(customer_id)

    return {
        "customers_debited_twice": len(debited_twice),
        "customers_with_wrong_balance": len(wrong_balance),
        "customers_with_wrong_settlement": len(wrong_paid),
        "invoices_with_wrong_total": len(wrong_total),
    }


def verify(period: str) -> dict:
    """What the billing of ``period`` produced, as counts a correct run makes zero (or equal)."""
    start, end = _period(period)
    report = check_ledger()
    charges = list(Charge.objects.values_list("pk", "customer_id", "invoice_id", "period_start"))
    due_charges = [c for c in charges if c[3] <= end]
    later_charges = [c for c in charges if c[3] > end]
    invoices = {
        i["pk"]: i
        for i in Invoice.objects.values(
            "pk",
            "number",
            "customer_id",
            "billing_run_id",
            "total_incl_vat",
            "paid",
            "status",
            "created_at",
        )
    }
    per_customer: dict[int, list[int]] = defaultdict(list)
    for pk, inv in invoices.items():
        per_customer[inv["customer_id"]].append(pk)
    billed_customers = {c[1] for c in due_charges}
    lines: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for pk, amount, rate in Charge.objects.filter(period_start__lte=end).values_list(
        "customer_id", "amount", "vat_rate"
    ):
        lines[pk].append((int(amount * 100), rate))

    money = _money_checks(invoices, per_customer, lines)

    runs = list(BillingRun.objects.order_by("pk").values("pk", "status", "period_start"))
    invoices_per_run: dict[int | None, int] = defaultdict(int)
    for inv in invoices.values():
        invoices_per_run[inv["billing_run_id"]] += 1
    numbers = sorted(inv["number"] for inv in invoices.values())
    # Issue order is the time a number was taken (ids are taken earlier, when a chunk starts).
    issued_at = [inv["created_at"] for inv in sorted(invoices.values(), key=lambda i: i["number"])]
    prefix = f"{settings.ENCAISSE_INVOICE_PREFIX}{timezone.localdate().year}-"
    expected_numbers = [f"{prefix}{n:06d}" for n in range(1, len(invoices) + 1)]
    return {
        "ledger_ok": report.ok,
        "ledger_report": str(report),
        "customers": Customer.objects.count(),
        "customers_with_charges": len(billed_customers),
        "invoices": len(invoices),
        "customers_without_invoice": len(billed_customers - set(per_customer)),
        "customers_with_several_invoices": sum(1 for v in per_customer.values() if len(v) > 1),
        "invoices_for_customers_without_charges": len(set(per_customer) - billed_customers),
        "charges_skipped": sum(1 for c in due_charges if c[2] is None),
        "charges_on_another_customers_invoice": sum(
            1 for c in due_charges if c[2] is not None and invoices[c[2]]["customer_id"] != c[1]
        ),
        "later_charges_invoiced": sum(1 for c in later_charges if c[2] is not None),
        **money,
        "runs": [
            {
                "pk": r["pk"],
                "status": r["status"],
                "period": r["period_start"].isoformat(),
                "invoices": invoices_per_run.get(r["pk"], 0),
            }
            for r in runs
        ],
        "invoices_outside_runs": invoices_per_run.get(None, 0),
        "numbers_gapless": numbers == expected_numbers,
        "numbers_in_issue_order": issued_at == sorted(issued_at),
        "duplicate_numbers": len(numbers) - len(set(numbers)),
        "first_number": numbers[0] if numbers else None,
        "last_number": numbers[-1] if numbers else None,
        "period": [start.isoformat(), end.isoformat()],
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    seed_cmd = sub.add_parser("seed")
    seed_cmd.add_argument("--customers", type=int, required=True)
    seed_cmd.add_argument("--seed", type=int, default=1)
    seed_cmd.add_argument("--period", default="2026-11")
    verify_cmd = sub.add_parser("verify")
    verify_cmd.add_argument("--period", default="2026-11")
    args = parser.parse_args(argv)
    result = (
        seed(args.customers, args.seed, args.period)
        if args.command == "seed"
        else verify(args.period)
    )
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
