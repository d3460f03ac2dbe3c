# SPDX-License-Identifier: AGPL-3.0-or-later
"""Finding and opening accounts: one prepaid and one receivable per customer, system accounts by code."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings

from .models import NORMAL_SIGN, Account, AccountKind

if TYPE_CHECKING:  # the customers app is a layer above the ledger
    from encaisse.customers.models import Customer

CUSTOMER_KINDS = (AccountKind.PREPAID, AccountKind.RECEIVABLE)


def customer_account_code(customer_id: int, kind: str) -> str:
    return f"customer:{customer_id}:{kind}"


def open_customer_accounts(customer: Customer, *, overdraft: Decimal) -> list[Account]:
    """Create the customer's prepaid and receivable accounts (at customer creation)."""
    currency = settings.ENCAISSE_CURRENCY
    return Account.objects.bulk_create(
        [
            Account(
                code=customer_account_code(customer.pk, AccountKind.PREPAID),
                kind=AccountKind.PREPAID,
                customer=customer,
                currency=currency,
                normal_sign=NORMAL_SIGN[AccountKind.PREPAID],
                floor=-overdraft,
            ),
            Account(
                code=customer_account_code(customer.pk, AccountKind.RECEIVABLE),
                kind=AccountKind.RECEIVABLE,
                customer=customer,
                currency=currency,
                normal_sign=NORMAL_SIGN[AccountKind.RECEIVABLE],
            ),
        ]
    )


def customer_account(customer: Customer, kind: AccountKind) -> Account:
    return Account.objects.get(customer=customer, kind=kind)


def system_account_code(kind: AccountKind, qualifier: str = "") -> str:
    return f"{kind}:{qualifier}" if qualifier else str(kind)


def system_account(kind: AccountKind, qualifier: str = "") -> Account:
    """A provider-level account such as ``revenue`` or ``vat_collected:20.00`` (created on first use)."""
    code = system_account_code(kind, qualifier)
    account, _ = Account.objects.get_or_create(
        code=code,
        defaults={
            "kind": kind,
            "currency": settings.ENCAISSE_CURRENCY,
            "normal_sign": NORMAL_SIGN[kind],
        },
    )
    return account


def vat_account(rate: Decimal) -> Account:
    return system_account(AccountKind.VAT_COLLECTED, vat_account_qualifier(rate))


def vat_account_qualifier(rate: Decimal) -> str:
    return f"{rate:.2f}"


def system_account_ids(accounts: list[tuple[AccountKind, str]]) -> list[int]:
    """Ids of several system accounts (kind, qualifier) in one query, opening any missing one.

    For bulk paths, which need the revenue and every VAT account once per chunk."""
    codes = [system_account_code(kind, qualifier) for kind, qualifier in accounts]
    found = dict(Account.objects.filter(code__in=codes).values_list("code", "id"))
    return [
        found[code] if code in found else system_account(kind, qualifier).pk
        for code, (kind, qualifier) in zip(codes, accounts, strict=True)
    ]
