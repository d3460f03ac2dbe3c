# SPDX-License-Identifier: AGPL-3.0-or-later
"""The set-based posting checks what ``post()`` checks: zero sum, the floor, one leg per customer
account and batch, every step done, in order; and it posts what it was given, balances included."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from encaisse.core.actors import Actor
from encaisse.core.sql import db_datetime, temp_table
from encaisse.ledger.accounts import system_account
from encaisse.ledger.batch import Batch, BatchError, HeaderSource, LegSource, new_transaction_id
from encaisse.ledger.exceptions import InsufficientFunds, UnbalancedTransaction
from encaisse.ledger.models import AccountKind, Entry, LedgerTransaction, TransactionKind
from encaisse.ledger.selectors import check_ledger, customer_balance

pytestmark = pytest.mark.django_db

MOVES = "test_batch_move"


def _moves(rows: list[tuple[int, int, int, int]]) -> None:
    """The caller's scratch table: (seq, customer, prepaid account, amount in cents)."""
    with connection.cursor() as cursor:
        cursor.execute(
            temp_table(
                MOVES,
                "seq bigint NOT NULL, customer_id bigint NOT NULL, prepaid_id bigint NOT NULL, "
                "amount bigint NOT NULL, txn_id bigint",
            )
        )
        cursor.execute(f"DELETE FROM {MOVES}")
        cursor.executemany(
            f"INSERT INTO {MOVES} (seq, customer_id, prepaid_id, amount) VALUES (%s, %s, %s, %s)",
            rows,
        )
        cursor.execute(f"UPDATE {MOVES} SET txn_id = {new_transaction_id('seq')}")


def _legs(bank_id: int, *, revenue_amount: str = "-m.amount") -> list[LegSource]:
    source = f"{MOVES} m"
    return [
        LegSource(txn="m.txn_id", account="m.prepaid_id", amount="-m.amount", source=source),
        LegSource(
            txn="m.txn_id", account=str(bank_id), amount=revenue_amount, source=source, shared=True
        ),
    ]


def _headers() -> HeaderSource:
    return HeaderSource(
        id="m.txn_id",
        key="'test:batch:' || m.seq",
        description="'Batch test ' || m.seq",
        customer="m.customer_id",
        invoice="NULL",
        source=f"{MOVES} m",
        order_by="m.seq",
    )


def _post_all(batch: Batch, bank_id: int, **legs: str) -> None:
    batch.lock_customer_accounts()
    batch.stage(_legs(bank_id, **legs))
    batch.insert_transactions(_headers(), at=db_datetime(timezone.now()))
    batch.insert_entries()
    batch.apply_customer_balances()
    batch.apply_shared_balances()
    batch.close()


@pytest.fixture
def two_customers(make_customer):
    first, second = make_customer(), make_customer()
    prepaid = {c.pk: c.accounts.get(kind=AccountKind.PREPAID).pk for c in (first, second)}
    return first, second, prepaid


def _batch(first, second) -> Batch:
    return Batch(
        kind=TransactionKind.TOP_UP,
        actor=Actor.system("tests"),
        customers=(first.pk, second.pk),
    )


def test_a_batch_posts_its_transactions_entries_and_balances(two_customers):
    first, second, prepaid = two_customers
    bank = system_account(AccountKind.BANK, "main")
    with transaction.atomic():
        _moves([(1, first.pk, prepaid[first.pk], 1500), (2, second.pk, prepaid[second.pk], 250)])
        _post_all(_batch(first, second), bank.pk, revenue_amount="m.amount")

    assert customer_balance(first).prepaid == Decimal("15.00")
    assert customer_balance(second).prepaid == Decimal("2.50")
    bank.refresh_from_db()
    assert bank.balance == Decimal("17.50")
    txns = LedgerTransaction.objects.filter(idempotency_key__startswith="test:batch:")
    assert txns.count() == 2 and Entry.objects.filter(transaction__in=txns).count() == 4
    assert check_ledger().ok


def test_unbalanced_legs_are_refused_and_nothing_is_posted(two_customers):
    first, second, prepaid = two_customers
    bank = system_account(AccountKind.BANK, "main")
    with pytest.raises(UnbalancedTransaction), transaction.atomic():
        _moves([(1, first.pk, prepaid[first.pk], 1500)])
        _post_all(_batch(first, second), bank.pk, revenue_amount="m.amount + 1")
    assert not LedgerTransaction.objects.filter(idempotency_key__startswith="test:").exists()


def test_a_debit_below_the_floor_fails_the_batch(two_customers):
    first, second, prepaid = two_customers
    bank = system_account(AccountKind.BANK, "main")
    with pytest.raises(InsufficientFunds), transaction.atomic():
        # A negative move debits the prepaid account: there is nothing on it.
        _moves([(1, first.pk, prepaid[first.pk], -100)])
        _post_all(_batch(first, second), bank.pk, revenue_amount="m.amount")
    assert customer_balance(first).prepaid == 0


def test_two_legs_on_one_customer_account_fail_the_batch(two_customers):
    first, second, prepaid = two_customers
    bank = system_account(AccountKind.BANK, "main")
    with pytest.raises(InsufficientFunds), transaction.atomic():
        _moves([(1, first.pk, prepaid[first.pk], 100), (2, first.pk, prepaid[first.pk], 200)])
        _post_all(_batch(first, second), bank.pk, revenue_amount="m.amount")
    assert customer_balance(first).prepaid == 0


def test_an_account_outside_the_batchs_customers_fails_it(two_customers, make_customer):
    first, second, _ = two_customers
    outsider = make_customer()
    bank = system_account(AccountKind.BANK, "main")
    with pytest.raises(InsufficientFunds), transaction.atomic():
        _moves([(1, outsider.pk, outsider.accounts.get(kind=AccountKind.PREPAID).pk, 100)])
        _post_all(_batch(first, second), bank.pk, revenue_amount="m.amount")


def test_steps_out_of_order_or_left_out_are_refused(two_customers):
    first, second, prepaid = two_customers
    bank = system_account(AccountKind.BANK, "main")
    with transaction.atomic():
        _moves([(1, first.pk, prepaid[first.pk], 100)])
        batch = _batch(first, second)
        with pytest.raises(BatchError):
            batch.insert_entries()  # nothing staged yet
        batch.stage(_legs(bank.pk, revenue_amount="m.amount"))
        with pytest.raises(BatchError):
            batch.apply_shared_balances()  # before the customers' part
        batch.insert_entries()
        with pytest.raises(BatchError):
            batch.insert_entries()  # twice
        with pytest.raises(BatchError):
            batch.close()  # transactions and balances left out
        transaction.set_rollback(True)


def test_a_key_already_posted_fails_the_batch(two_customers):
    first, second, prepaid = two_customers
    bank = system_account(AccountKind.BANK, "main")
    with transaction.atomic():
        _moves([(1, first.pk, prepaid[first.pk], 100)])
        _post_all(_batch(first, second), bank.pk, revenue_amount="m.amount")
    with pytest.raises(IntegrityError), transaction.atomic():
        _moves([(1, first.pk, prepaid[first.pk], 100)])
        _post_all(_batch(first, second), bank.pk, revenue_amount="m.amount")
    assert customer_balance(first).prepaid == Decimal("1.00")
