# SPDX-License-Identifier: AGPL-3.0-or-later
"""Concurrent postings on hot accounts (PostgreSQL): no lost update, no overdraft (I2, I3).

Eight threads, each with its own connection, fire voluntary debits and credits through
``ledger.services.post`` at three hot prepaid accounts (one with a 20.00 overdraft) at once. Each
operation either took effect exactly once or raised ``InsufficientFunds`` and changed nothing: the
final balances equal the initial ones plus the successful credits minus the successful debits,
never went below their floors, and the cached balances equal the entries.

PostgreSQL only (SQLite has a single writer); ``transaction=True`` so threads see each other's
commits (the flush uses TRUNCATE, which the append-only triggers do not block).
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connections

from encaisse.core.actors import Actor
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

THREADS = 8
OPERATIONS = 40
JOIN_TIMEOUT = 300
ACTOR = Actor.system("race-test")


def _random_posting(rng: random.Random, hot: list, key: str) -> tuple[int, int] | None:
    """A voluntary debit (70 %) or a credit of one hot prepaid account; None if refused."""
    from encaisse.ledger.accounts import customer_account, system_account
    from encaisse.ledger.exceptions import InsufficientFunds
    from encaisse.ledger.models import AccountKind, TransactionKind
    from encaisse.ledger.services import Leg, post

    customer = rng.choice(hot)
    cents = rng.randint(1, 900)
    debit = rng.random() < 0.7
    amount = Decimal(cents).scaleb(-2)
    account = customer_account(customer, AccountKind.PREPAID)
    if debit:
        legs = [Leg(account, amount), Leg(system_account(AccountKind.REVENUE), -amount)]
    else:
        legs = [Leg(system_account(AccountKind.BANK, "main"), amount), Leg(account, -amount)]
    try:
        post(
            key=key,
            kind=TransactionKind.INVOICE_SETTLED if debit else TransactionKind.TOP_UP,
            description="race",
            legs=legs,
            actor=ACTOR,
            customer=customer,
        )
    except InsufficientFunds:
        return None
    return customer.pk, -cents if debit else cents


def _run_threads(worker) -> None:
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a worker is stuck (deadlock?)"


def test_racing_debits_and_credits_on_hot_accounts_lose_nothing_and_never_overdraw(
    make_customer, top_up, assert_ledger_ok
):
    """8 threads × 40 debits/credits on 3 hot accounts: conservation, floors, exactly once."""
    from encaisse.ledger.models import LedgerTransaction
    from encaisse.ledger.selectors import customer_balance

    hot = [make_customer(), make_customer(overdraft=Decimal("20")), make_customer()]
    for customer in hot:
        top_up(customer, "30.00", reference=f"initial-{customer.pk}")
    initial = {c.pk: to_cents(customer_balance(c).prepaid) for c in hot}
    floors = {c.pk: to_cents(customer_balance(c).floor) for c in hot}
    transactions_before = LedgerTransaction.objects.count()
    barrier = threading.Barrier(THREADS)
    applied: list[list[tuple[int, int]]] = [[] for _ in range(THREADS)]  # (customer, ± cents)
    refused, errors = [0] * THREADS, []

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=JOIN_TIMEOUT)
            for op in range(OPERATIONS):
                outcome = _random_posting(random.Random(f"{index}:{op}"), hot, f"race:{index}:{op}")
                if outcome is None:
                    refused[index] += 1
                else:
                    applied[index].append(outcome)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    _run_threads(worker)

    assert errors == []
    expected = defaultdict(int, initial)
    for ops in applied:
        for customer_pk, delta in ops:
            expected[customer_pk] += delta
    for customer in hot:
        balance = to_cents(customer_balance(customer).prepaid)
        assert balance == expected[customer.pk], customer  # no lost update
        assert balance >= floors[customer.pk]  # no overdraft beyond the agreed floor
    successes = sum(len(ops) for ops in applied)
    assert successes + sum(refused) == THREADS * OPERATIONS
    assert LedgerTransaction.objects.count() == transactions_before + successes
    assert sum(refused) > 0, "the workload should hit the floor at least once"
    assert_ledger_ok()
