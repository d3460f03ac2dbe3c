# SPDX-License-Identifier: AGPL-3.0-or-later
"""Posting to the ledger: the only code that moves money.

:func:`post` writes one balanced journal transaction and updates the cached balances in the same
database transaction. It is idempotent by key (invariant I4/I6 of ledger-and-reliability.md): a key
already posted returns the first transaction and posts nothing, and the same key with different
legs is refused. Accounts are locked in one order that every money path follows (customers'
accounts, then the shared system accounts, each by ascending id), so concurrent postings on
PostgreSQL queue instead of deadlocking, and the hot system rows are held as briefly as possible.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from encaisse.core.actors import Actor
from encaisse.core.money import MAX_BALANCE, from_cents, to_cents

from . import keys
from .exceptions import (
    BalanceLimitExceeded,
    IdempotencyConflict,
    InsufficientFunds,
    UnbalancedTransaction,
)
from .models import Account, AccountKind, Entry, LedgerTransaction, TransactionKind

if TYPE_CHECKING:  # the customers app is a layer above the ledger
    from encaisse.customers.models import Customer


@dataclass(frozen=True, slots=True)
class Leg:
    """One side of a posting: ``amount`` > 0 debits ``account``, < 0 credits it."""

    account: Account
    amount: Decimal


def _merge(legs: Sequence[Leg]) -> dict[int, int]:
    per_account: dict[int, int] = defaultdict(int)
    for leg in legs:
        per_account[leg.account.pk] += to_cents(leg.amount)
    return per_account


def _check_balanced(legs: Sequence[Leg]) -> None:
    if len(legs) < 2 or any(leg.amount == 0 for leg in legs):
        raise UnbalancedTransaction()
    per_currency: dict[str, Decimal] = defaultdict(Decimal)
    for leg in legs:
        per_currency[leg.account.currency] += leg.amount
    if any(total != 0 for total in per_currency.values()):
        raise UnbalancedTransaction()


def lock_accounts(account_ids: Sequence[int]) -> dict[int, Account]:
    """Lock accounts (PostgreSQL row locks; SQLite has one writer) in the lock order of every
    money path: customers' accounts first, then system accounts, each by ascending id.

    System accounts (revenue, VAT, bank, PSP clearing) are shared by every posting: taken last,
    they are held for the shortest time, and a path that already holds customer accounts (a
    billing chunk) may take them at its very end without any other path holding them first."""
    system = ExpressionWrapper(Q(customer__isnull=True), output_field=BooleanField())
    accounts = (
        Account.objects.select_for_update()
        .filter(pk__in=account_ids)
        .alias(system=system)
        .order_by("system", "pk")
    )
    return {account.pk: account for account in accounts}


def lock_customers(customer_ids: Iterable[int]) -> None:
    """Take the money lock of these customers: their prepaid accounts, in ascending id order.

    The first lock of every money path (:func:`lock_accounts`): a path that changes what a
    customer owes without posting yet (a charge added, subscription charges generated) takes it
    too, so that it cannot slip between the moment a billing chunk totals a customer's charges
    and the moment it invoices them (the chunk locks the same rows)."""
    list(
        Account.objects.select_for_update()
        .filter(customer_id__in=set(customer_ids), kind=AccountKind.PREPAID)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _same_legs(existing: LedgerTransaction, legs: Sequence[Leg]) -> bool:
    stored: dict[int, int] = defaultdict(int)
    for account_id, amount in existing.entries.values_list("account_id", "amount"):
        stored[account_id] += to_cents(amount)
    return {k: v for k, v in stored.items() if v} == {k: v for k, v in _merge(legs).items() if v}


def _replay(key: str, legs: Sequence[Leg]) -> LedgerTransaction | None:
    existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
    if existing is None:
        return None
    if not _same_legs(existing, legs):
        raise IdempotencyConflict(key=key)
    return existing


def _apply_balances(legs: Sequence[Leg], accounts: dict[int, Account], enforce_floor: bool) -> None:
    for account_id, amount in sorted(_merge(legs).items()):
        account = accounts[account_id]
        delta = account.normal_sign * amount
        # The account is locked: the balance read then is the one the update moves (I3).
        over = account.balance + from_cents(delta) > MAX_BALANCE
        if account.customer_id is not None and delta > 0 and over:
            raise BalanceLimitExceeded(maximum=str(MAX_BALANCE))
        rows = Account.objects.filter(pk=account_id)
        if enforce_floor and delta < 0 and account.floor is not None:
            # Guarded update: one round trip, no lost update, never below the floor (I3).
            rows = rows.filter(balance__gte=F("floor") - delta)
        if rows.update(balance=F("balance") + delta) != 1:
            raise InsufficientFunds(account=account.code)


def _verify_zero_sum(txn: LedgerTransaction) -> None:
    sums = Entry.objects.filter(transaction=txn).values("currency").annotate(total=Sum("amount"))
    if any(row["total"] != 0 for row in sums):
        raise UnbalancedTransaction()


def post(
    *,
    key: str,
    kind: TransactionKind,
    description: str,
    legs: Sequence[Leg],
    actor: Actor,
    reason: str = "",
    customer: Customer | None = None,
    invoice_id: int | None = None,
    reverses: LedgerTransaction | None = None,
    enforce_floor: bool = True,
) -> tuple[LedgerTransaction, bool]:
    """Post a balanced transaction once; return it and whether it was created now.

    ``enforce_floor=False`` is for involuntary movements that record money already gone (decisions
    §2); callers book on the receivable whatever the prepaid balance cannot cover, so the database
    CHECK still holds. Runs inside the caller's transaction when there is one.
    """
    _check_balanced(legs)
    with transaction.atomic():
        accounts = lock_accounts(sorted({leg.account.pk for leg in legs}))
        existing = _replay(key, legs)
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                txn = LedgerTransaction.objects.create(
                    idempotency_key=key,
                    kind=kind,
                    description=description[:200],
                    reason=reason,
                    created_at=timezone.now(),
                    customer=customer,
                    invoice_id=invoice_id,
                    reverses=reverses,
                    **actor.fields(),
                )
        except IntegrityError:
            existing = _replay(key, legs)
            if existing is None:
                raise
            return existing, False
        Entry.objects.bulk_create(
            Entry(
                transaction=txn,
                account=leg.account,
                amount=leg.amount,
                currency=leg.account.currency,
            )
            for leg in legs
        )
        _apply_balances(legs, accounts, enforce_floor)
        _verify_zero_sum(txn)
    return txn, True


def reverse(
    original: LedgerTransaction, *, actor: Actor, reason: str, enforce_floor: bool = False
) -> tuple[LedgerTransaction, bool]:
    """Post the mirror image of ``original`` (corrections are reversals, never edits)."""
    legs = [Leg(e.account, -e.amount) for e in original.entries.select_related("account")]
    return post(
        key=keys.reversal(original.pk),
        kind=TransactionKind.REVERSAL,
        description=f"Reversal of #{original.pk}: {original.description}"[:200],
        legs=legs,
        actor=actor,
        reason=reason,
        customer=original.customer,
        invoice_id=original.invoice_id,
        reverses=original,
        enforce_floor=enforce_floor,
    )
