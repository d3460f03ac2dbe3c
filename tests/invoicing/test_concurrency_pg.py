# SPDX-License-Identifier: AGPL-3.0-or-later
"""Concurrency of the money paths on PostgreSQL ("mini-Jepsen", ledger-and-reliability.md §5.3).

Real threads, each with its own database connection, start together behind a barrier:

* top-ups (some of them the same bank line replayed by several threads at once) on a few hot
  customers WHILE two workers process one billing run over the same customers: no lost update,
  every top-up credited exactly once, each invoice settled by exactly what the balance allowed,
  balances never below their floor, conservation (``check_ledger``);
* ten staff actions "issue this customer's invoice now" at once, beside a billing run: one
  invoice per customer, numbers gapless, unique and in issuance order (CGI art. 242 nonies A);
* twenty identical top-up requests at once: one credit, one transaction, the same answer to all.

PostgreSQL only: SQLite has a single writer (nothing to race) and its test database is in memory.
``transactional_db`` is needed so that each thread sees the others' commits; its flush uses
TRUNCATE, which the row-level append-only triggers do not block.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from concurrency import JOIN_TIMEOUT, run_concurrently
from django.conf import settings
from django.db import connection

from encaisse.core.money import to_cents

pytestmark = [
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="concurrency tests need PostgreSQL (SQLite has a single writer)",
    ),
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

NOVEMBER_END = dt.date(2026, 11, 30)


def _errors(outcomes) -> list[BaseException]:
    return [error for _, error in outcomes if error is not None]


def _prepaid_from_entries(customer) -> int:
    """The prepaid balance recomputed from the entries (cents), independent of the cache."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(-SUM(e.amount), 0) FROM ledger_entry e "
            "JOIN ledger_account a ON a.id = e.account_id "
            "WHERE a.customer_id = %s AND a.kind = 'prepaid'",
            [customer.pk],
        )
        return cursor.fetchone()[0]


def _entries_by_kind(customer) -> dict[str, int]:
    """Σ prepaid entries per transaction kind (credits < 0), in cents."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.kind, SUM(e.amount) FROM ledger_entry e "
            "JOIN ledger_ledgertransaction t ON t.id = e.transaction_id "
            "JOIN ledger_account a ON a.id = e.account_id "
            "WHERE a.customer_id = %s AND a.kind = 'prepaid' GROUP BY t.kind",
            [customer.pk],
        )
        return dict(cursor.fetchall())


def _settlement_triggers() -> dict[str, int]:
    """How invoices got paid: at issuance, or by a top-up that arrived after the invoice."""
    from encaisse.ledger.models import LedgerTransaction

    keys = LedgerTransaction.objects.filter(kind="invoice_settled").values_list(
        "idempotency_key", flat=True
    )
    triggers = Counter(key.split(":")[3] for key in keys)
    # Settled at issuance: the issuance posting itself has a prepaid leg.
    triggers["issuance"] += (
        LedgerTransaction.objects.filter(kind="invoice_issued", entries__account__kind="prepaid")
        .distinct()
        .count()
    )
    return dict(triggers)


def _assert_numbers_gapless_and_chronological() -> list[str]:
    """Per series: numbers 1…N, and a later number was never issued before an earlier one.

    Ids are not the issue order: a billing chunk takes its ids when it starts and its numbers
    at its end, after a chunk that started later may have taken its own."""
    from django.utils import timezone

    from encaisse.invoicing.models import Invoice

    year = timezone.localdate().year
    numbers = []
    for kind, prefix in (("invoice", "FA"), ("credit_note", "AV")):
        rows = list(
            Invoice.objects.filter(kind=kind).order_by("number").values_list("number", "created_at")
        )
        series = [number for number, _ in rows]
        assert series == [f"{prefix}{year}-{n:06d}" for n in range(1, len(series) + 1)], series
        issued_at = [created for _, created in rows]
        assert issued_at == sorted(issued_at), rows
        numbers += series
    return numbers


def _top_up_plans(rng, hot, *, threads: int, per_thread: int, shared: int) -> list[list[tuple]]:
    """Per thread: its own bank/card top-ups on hot customers, plus ``shared`` lines all see."""
    common = [  # bank lines every thread posts (one statement imported by several workers)
        (hot[k % len(hot)], f"{rng.randint(100, 3000) / 100:.2f}", "bank_transfer", f"shared-{k}")
        for k in range(shared)
    ]
    plans = []
    for t in range(threads):
        plan = [
            (
                rng.choice(hot),
                f"{rng.randint(50, 1500) / 100:.2f}",
                rng.choice(["bank_transfer", "card", "paypal"]),
                f"t{t}-{i}",
            )
            for i in range(per_thread)
        ]
        for item in common:
            plan.insert(rng.randrange(len(plan) + 1), item)
        plans.append(plan)
    return plans


def _assert_each_reference_credited_once(results: list[list[tuple]]) -> None:
    created: Counter[str] = Counter()
    txn_ids: dict[str, set[int]] = defaultdict(set)
    for result in results:
        for reference, txn_pk, was_created in result:
            created[reference] += was_created
            txn_ids[reference].add(txn_pk)
    assert all(count == 1 for count in created.values()), created  # exactly one credit each
    assert all(len(ids) == 1 for ids in txn_ids.values())  # every replay got the same answer


def _assert_settled_exactly(customer, credited: int) -> None:
    """paid = min(total, Σ top-ups); balance = Σ top-ups - paid; cache = entries (cents)."""
    from encaisse.invoicing.models import Invoice
    from encaisse.ledger.selectors import customer_balance

    invoice = Invoice.objects.get(customer=customer)
    total, paid = to_cents(invoice.total_incl_vat), to_cents(invoice.paid)
    balance = customer_balance(customer)
    assert paid == min(total, credited), customer
    assert to_cents(balance.prepaid) == credited - paid
    assert to_cents(balance.due) == total - paid
    assert _prepaid_from_entries(customer) == to_cents(balance.prepaid)  # no lost update
    kinds = _entries_by_kind(customer)
    assert -kinds["top_up"] == credited
    # Paid at issuance (prepaid leg of the issuance posting) or by a later settlement.
    assert kinds.get("invoice_issued", 0) + kinds.get("invoice_settled", 0) == paid
    assert balance.prepaid >= balance.floor


def test_top_ups_racing_a_billing_run_are_credited_once_and_never_lost(
    make_customer, charge, actor, assert_ledger_ok
):
    """4 top-up threads (with replayed bank lines) + 2 billing workers on the same customers.

    Whatever the interleaving, each hot customer ends with paid = min(invoice total, Σ distinct
    top-ups) and prepaid balance = Σ top-ups - paid: a lost update, a double credit, a skipped or
    doubled settlement would all break these equalities.
    """
    from encaisse.invoicing import billing
    from encaisse.invoicing.models import Invoice
    from encaisse.payments.services import record_top_up

    rng = random.Random(11)
    customers = [make_customer() for _ in range(120)]
    for customer in customers:
        charge(customer, f"{rng.randint(100, 5000) / 100:.2f}")
    hot = customers[7::30]  # four customers spread over the run's chunks
    for customer in hot:
        charge(customer, "40.00", vat_rate="10", description="Serveur dédié")
    run = billing.start_run("2026-11", actor=actor, chunk_size=4)
    assert run.chunks.count() == 30

    plans = _top_up_plans(rng, hot, threads=4, per_thread=30, shared=6)

    def top_ups(plan):
        def job():
            results = []
            for customer, amount, method, reference in plan:
                txn, created = record_top_up(
                    customer, amount=amount, method=method, reference=reference, actor=actor
                )
                results.append((reference, txn.pk, created))
            return results

        return job

    def billing_worker():
        return billing.process_run(run, actor=actor)

    outcomes = run_concurrently([*(top_ups(p) for p in plans), billing_worker, billing_worker])

    assert _errors(outcomes) == []
    _assert_each_reference_credited_once([result for result, _ in outcomes[:4]])

    run.refresh_from_db()
    assert run.status == "completed"
    assert Invoice.objects.filter(billing_run=run).count() == len(customers)
    credited = defaultdict(int)
    for customer, amount, _, _ in {item for plan in plans for item in plan}:
        credited[customer.pk] += to_cents(Decimal(amount))
    for customer in hot:
        _assert_settled_exactly(customer, credited[customer.pk])
    assert_ledger_ok()
    print(f"\ninterleaving seen (settlement transactions per trigger): {_settlement_triggers()}")
    _assert_numbers_gapless_and_chronological()


def test_concurrent_issuance_keeps_invoice_numbers_gapless(make_customer, charge, actor):
    """10 "issue now" at once beside a billing run: one invoice each, numbers 1…N in order."""
    from encaisse.invoicing import billing
    from encaisse.invoicing.issuance import issue_invoice_now
    from encaisse.invoicing.models import Charge, Invoice

    staff_customers = [make_customer() for _ in range(10)]
    run_customers = [make_customer() for _ in range(30)]
    for customer in staff_customers + run_customers:
        charge(customer, "12.34")
        charge(customer, "1.00", vat_rate="5.5")

    def issue(customer):
        return lambda: issue_invoice_now(customer, period_end=NOVEMBER_END, actor=actor)

    def billing_run():
        started = billing.start_run("2026-11", actor=actor, chunk_size=3)
        return billing.process_run(started, actor=actor)

    outcomes = run_concurrently([*(issue(c) for c in staff_customers), billing_run])

    assert _errors(outcomes) == []
    everyone = staff_customers + run_customers
    per_customer = Counter(Invoice.objects.values_list("customer_id", flat=True))
    assert per_customer == Counter(c.pk for c in everyone)  # exactly one invoice per customer
    assert not Charge.objects.filter(invoice__isnull=True).exists()
    numbers = _assert_numbers_gapless_and_chronological()
    assert len(numbers) == len(set(numbers)) == len(everyone)
    issued_now = [invoice for invoice, _ in outcomes[:10] if invoice is not None]
    assert {i.customer_id for i in issued_now} <= {c.pk for c in staff_customers}
    assert outcomes[10][0].invoices + len(issued_now) == len(everyone)


def test_twenty_identical_top_up_requests_at_once_credit_once(make_customer, actor):
    """The same bank line posted by 20 threads at once: one transaction, one credit (I4, I6)."""
    from encaisse.ledger.models import LedgerTransaction
    from encaisse.ledger.selectors import customer_balance
    from encaisse.payments.services import record_top_up

    customer = make_customer()

    def job():
        txn, created = record_top_up(
            customer, amount="42.00", method="bank_transfer", reference="RF-0042", actor=actor
        )
        return txn.pk, created

    outcomes = run_concurrently([job] * 20)

    assert _errors(outcomes) == []
    assert sum(created for (_, created), _ in outcomes) == 1
    assert len({pk for (pk, _), _ in outcomes}) == 1
    assert LedgerTransaction.objects.filter(kind="top_up").count() == 1
    assert customer_balance(customer).prepaid == Decimal("42.00")
    assert _prepaid_from_entries(customer) == 4200


def test_one_bank_line_claimed_for_twenty_customers_at_once_credits_one(make_customer, actor):
    """The same reference for different customers at once: one credit, 19 conflicts, no money made."""
    from encaisse.ledger.exceptions import IdempotencyConflict
    from encaisse.ledger.models import LedgerTransaction
    from encaisse.ledger.selectors import customer_balance
    from encaisse.payments.services import record_top_up

    customers = [make_customer() for _ in range(20)]

    def job(customer):
        return lambda: record_top_up(
            customer, amount="10.00", method="bank_transfer", reference="RF-SAME", actor=actor
        )

    outcomes = run_concurrently([job(c) for c in customers])

    successes = [result for result, error in outcomes if error is None]
    errors = _errors(outcomes)
    assert len(successes) == 1
    assert len(errors) == 19
    assert all(isinstance(error, IdempotencyConflict) for error in errors), errors
    assert LedgerTransaction.objects.filter(kind="top_up").count() == 1
    assert sum(customer_balance(c).prepaid for c in customers) == Decimal("10.00")


def test_credit_notes_reversals_top_ups_and_a_billing_run_at_once_keep_every_invariant(
    make_customer, charge, top_up, bill, actor, assert_ledger_ok
):
    """Every money path at once on the same customers: no deadlock, no error, books that add up.

    November is billed first; then, while two workers bill December, other threads credit
    November invoices, charge back November top-ups and record new top-ups. Afterwards: the
    ledger is conserved, every invoice's ``paid`` is what the ledger settled minus what its credit
    notes gave back, ``credited`` is the sum of its credit notes, invoice and credit-note numbers
    are gapless, and nobody holds available money while an invoice is left due.
    """
    from encaisse.invoicing import billing
    from encaisse.invoicing.credit_notes import issue_credit_note
    from encaisse.invoicing.models import Invoice
    from encaisse.payments.services import record_top_up, reverse_top_up

    rng = random.Random(5)
    customers = [make_customer() for _ in range(36)]
    first_top_ups = {c.pk: top_up(c, f"{rng.randint(1, 6000) / 100:.2f}") for c in customers}
    _charge_each(customers, charge, rng, dt.date(2026, 11, 1), vat_rate="20")
    bill("2026-11")
    _charge_each(customers, charge, rng, dt.date(2026, 12, 1), vat_rate="5.5")
    run = billing.start_run("2026-12", actor=actor, chunk_size=3)
    november = {i.customer_id: i for i in Invoice.objects.filter(period_start__month=11)}
    credited, reversed_, topped = customers[0::3], customers[1::3], customers[2::2]

    def credit_notes():
        for customer in credited:
            issue_credit_note(november[customer.pk], actor=actor, reason="service interrupted")

    def chargebacks():
        for customer in reversed_:
            reverse_top_up(first_top_ups[customer.pk], actor=actor, reason="chargeback")

    def top_ups(offset):
        def job():
            for i, customer in enumerate(topped[offset::2]):
                amount = f"{rng.randint(100, 5000) / 100:.2f}"
                record_top_up(
                    customer,
                    amount=amount,
                    method="card",
                    reference=f"pi-{offset}-{i}",
                    actor=actor,
                )

        return job

    def worker():
        return billing.process_run(run, actor=actor)

    outcomes = run_concurrently([credit_notes, chargebacks, top_ups(0), top_ups(1), worker, worker])

    assert _errors(outcomes) == []
    run.refresh_from_db()
    assert run.status == "completed"
    assert_ledger_ok()
    _assert_invoices_agree_with_the_ledger()
    numbers = _assert_numbers_gapless_and_chronological()
    assert sum(number.startswith("AV") for number in numbers) == len(credited)
    _assert_no_money_idle_while_an_invoice_is_due(customers)


def _charge_each(customers, charge, rng, month: dt.date, vat_rate: str) -> None:
    end = (month + dt.timedelta(days=31)).replace(day=1) - dt.timedelta(days=1)
    for customer in customers:
        price = f"{rng.randint(500, 4000) / 100:.2f}"
        charge(customer, price, vat_rate=vat_rate, period=(month, end))


def _assert_no_money_idle_while_an_invoice_is_due(customers) -> None:
    from encaisse.invoicing.models import Invoice
    from encaisse.ledger.selectors import customer_balance

    for customer in customers:
        balance = customer_balance(customer)
        due = sum(i.amount_due for i in Invoice.objects.filter(customer=customer, kind="invoice"))
        assert not (balance.available > 0 and due > 0), (customer, balance, due)


def _assert_invoices_agree_with_the_ledger() -> None:
    """paid = Σ prepaid settlements - Σ credit-note refunds; credited = Σ its credit notes."""
    from encaisse.invoicing.models import Invoice

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.invoice_id, SUM(e.amount) FROM ledger_entry e "
            "JOIN ledger_ledgertransaction t ON t.id = e.transaction_id "
            "JOIN ledger_account a ON a.id = e.account_id "
            "WHERE t.kind IN ('invoice_issued', 'invoice_settled') AND a.kind = 'prepaid' "
            "GROUP BY t.invoice_id"
        )
        settled = dict(cursor.fetchall())
        cursor.execute(
            "SELECT n.credited_invoice_id, SUM(e.amount) FROM ledger_entry e "
            "JOIN ledger_ledgertransaction t ON t.id = e.transaction_id "
            "JOIN ledger_account a ON a.id = e.account_id "
            "JOIN invoicing_invoice n ON n.id = t.invoice_id "
            "WHERE t.kind = 'credit_note' AND a.kind = 'prepaid' GROUP BY n.credited_invoice_id"
        )
        refunded = dict(cursor.fetchall())
    for invoice in Invoice.objects.filter(kind="invoice"):
        paid, credited = to_cents(invoice.paid), to_cents(invoice.credited)
        notes = sum(to_cents(n.total_incl_vat) for n in invoice.credit_notes.all())
        assert paid == settled.get(invoice.pk, 0) + refunded.get(invoice.pk, 0), invoice.number
        assert credited == notes, invoice.number
        assert paid >= 0 and paid + credited <= to_cents(invoice.total_incl_vat), invoice.number


def test_a_second_worker_starting_the_same_period_at_once_joins_the_run(
    make_customer, charge, actor
):
    """Several processes may work on one run (billing.py): a racing start must resume, not crash.

    Worker A inserts the period's run (as start_run does) and keeps its transaction open until
    worker B, which did not see that run yet, is blocked inserting its own; then A commits. B must
    end up working on A's run (money is safe either way: one running run per period at most).
    """
    import time

    from encaisse.invoicing import billing
    from encaisse.invoicing.models import BillingRun

    for _ in range(4):
        charge(make_customer())
    inserted, release = threading.Event(), threading.Event()

    def first():
        from django.db import transaction

        with transaction.atomic():  # what start_run() writes, held open until B is waiting
            run = BillingRun.objects.create(
                period_start=dt.date(2026, 11, 1),
                period_end=NOVEMBER_END,
                issue_date=dt.date(2026, 12, 1),
                **actor.fields(),
            )
            inserted.set()
            release.wait(JOIN_TIMEOUT)
        return run.pk

    def second():
        if not inserted.wait(JOIN_TIMEOUT):
            raise TimeoutError("worker A never inserted its run")
        return billing.start_run("2026-11", actor=actor, chunk_size=2).pk

    def referee():
        if not inserted.wait(JOIN_TIMEOUT):
            release.set()
            return
        deadline = time.monotonic() + JOIN_TIMEOUT
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:  # until B waits on A's uncommitted row
                cursor.execute(
                    "SELECT COUNT(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.02)
        release.set()

    outcomes = run_concurrently([first, second, referee], together=False)

    assert _errors(outcomes) == []
    assert outcomes[0][0] == outcomes[1][0]
    assert BillingRun.objects.count() == 1


def test_two_workers_issue_chunks_of_one_run_at_the_same_time(
    make_customer, charge, actor, assert_ledger_ok, monkeypatch
):
    """A chunk takes the gapless numbers and the shared revenue/VAT accounts only at its end
    (issuance.py), so a second worker gets through its own chunk's work meanwhile instead of
    queueing behind the first: both must be past their customers' settlement at once."""
    from encaisse.core import faults
    from encaisse.invoicing import billing
    from encaisse.invoicing.models import Invoice

    customers = [make_customer() for _ in range(8)]
    for customer in customers:
        charge(customer, "10.00")
        charge(customer, "2.00", vat_rate="5.5")
    both_inside, arriving = threading.Barrier(2), threading.Lock()
    arrivals: list[str] = []
    overlapped: list[str] = []

    def checkpoint(name: str) -> None:
        if name != "issuance.customers_settled":
            return
        with arriving:
            arrivals.append(threading.current_thread().name)
            first_two = len(arrivals) <= 2
        if first_two:  # the first chunk waits there for a second one to get as far
            try:
                both_inside.wait(timeout=30)
            except threading.BrokenBarrierError:
                return
            overlapped.append(threading.current_thread().name)

    monkeypatch.setattr(faults, "checkpoint", checkpoint)
    run = billing.start_run("2026-11", actor=actor, chunk_size=2)
    summary = billing.process_run(run, actor=actor, workers=2)

    assert len(overlapped) == 2 and len(set(overlapped)) == 2, (overlapped, arrivals)
    assert summary.invoices == len(customers) and summary.chunks_done == 4
    assert Invoice.objects.filter(billing_run=run).count() == len(customers)
    _assert_numbers_gapless_and_chronological()
    assert_ledger_ok()
