# SPDX-License-Identifier: AGPL-3.0-or-later
"""Paying invoices left due from the prepaid balance, oldest first, when money arrives.

Called after every top-up (card, PayPal, transfer, staff-recorded payment) inside the same database
transaction. Each settlement is its own journal transaction keyed by the invoice and by what
triggered it, so a replayed top-up settles nothing twice.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet

from encaisse.core.actors import Actor
from encaisse.customers.models import Customer
from encaisse.ledger import keys
from encaisse.ledger.accounts import customer_account
from encaisse.ledger.models import Account, AccountKind, TransactionKind
from encaisse.ledger.services import Leg, lock_accounts, post

from .models import Invoice, InvoiceKind, InvoiceStatus
from .status import invoice_status


def open_invoices(customer: Customer) -> QuerySet[Invoice]:
    return Invoice.objects.filter(
        customer=customer, kind=InvoiceKind.INVOICE, status=InvoiceStatus.OPEN
    ).order_by("issue_date", "pk")


def available_balance(prepaid: Account) -> Decimal:
    """What voluntary debits may still take: the balance above the floor (overdraft included)."""
    floor = prepaid.floor if prepaid.floor is not None else Decimal(0)
    return max(Decimal(0), prepaid.balance - floor)


def record_invoice_payment(invoice: Invoice, amount: Decimal) -> None:
    """Add ``amount`` to what is paid (caller holds the customer's lock; CHECK caps it at the total)."""
    invoice.paid += amount
    invoice.status = invoice_status(
        total=invoice.total_incl_vat, paid=invoice.paid, credited=invoice.credited
    )
    invoice.save(update_fields=["paid", "status"])


def _debt(receivable: Account, invoices: list[Invoice]) -> Decimal:
    """What is due outside any invoice: a reversal the balance could not cover (decisions §2)."""
    return max(Decimal(0), receivable.balance - sum((i.amount_due for i in invoices), Decimal(0)))


def _settle(
    customer: Customer, *, key: str, amount: Decimal, actor: Actor, invoice: Invoice | None
) -> bool:
    prepaid = customer_account(customer, AccountKind.PREPAID)
    receivable = customer_account(customer, AccountKind.RECEIVABLE)
    what = f"Invoice {invoice.number}" if invoice is not None else "Amount due"
    _, created = post(
        key=key,
        kind=TransactionKind.INVOICE_SETTLED,
        description=f"{what} paid from balance",
        legs=[Leg(prepaid, amount), Leg(receivable, -amount)],
        actor=actor,
        customer=customer,
        invoice_id=invoice.pk if invoice is not None else None,
    )
    if created and invoice is not None:
        record_invoice_payment(invoice, amount)
    return created


def settle_open_invoices(customer: Customer, *, trigger: str, actor: Actor) -> Decimal:
    """Use the prepaid balance on what the customer owes, oldest first; return the total used.

    A debt left by a reversal comes first (it is the oldest: the money it stands for was spent
    on earlier invoices), then open invoices by issue date. ``trigger`` names the event that made
    money available (``ledger.keys.after_top_up``, ``after_credit_note``…): keys derive from it, so a
    replayed event settles nothing twice.
    """
    with transaction.atomic():
        prepaid = customer_account(customer, AccountKind.PREPAID)
        receivable = customer_account(customer, AccountKind.RECEIVABLE)
        locked = lock_accounts(sorted([prepaid.pk, receivable.pk]))
        available = available_balance(locked[prepaid.pk])
        invoices = list(open_invoices(customer))
        used = Decimal(0)
        debt = min(_debt(locked[receivable.pk], invoices), available)
        if debt > 0 and _settle(
            customer,
            key=keys.debt_settled(customer.pk, trigger=trigger),
            amount=debt,
            actor=actor,
            invoice=None,
        ):
            used += debt
        for invoice in invoices:
            amount = min(invoice.amount_due, available - used)
            if amount <= 0:
                break
            if _settle(
                customer,
                key=keys.invoice_settled(invoice.pk, trigger=trigger),
                amount=amount,
                actor=actor,
                invoice=invoice,
            ):
                used += amount
    return used
