# SPDX-License-Identifier: AGPL-3.0-or-later
"""Money coming in: top-ups of the prepaid account and the life of in-flight payments.

Every way money arrives (card, PayPal, transfer, mandat administratif, a payment staff record)
ends in :func:`record_top_up`: one journal transaction crediting the prepaid account, keyed by the
source's own unique reference, then the open invoices are settled from the balance, oldest first.
Cheques are refused everywhere with the same message (decisions §6).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.exceptions import ValidationError
from encaisse.core.money import MoneyError, parse_decimal
from encaisse.customers.models import Customer
from encaisse.invoicing.settlement import settle_open_invoices
from encaisse.ledger.accounts import customer_account, system_account
from encaisse.ledger.models import Account, AccountKind, LedgerTransaction, TransactionKind
from encaisse.ledger.services import Leg, lock_accounts, post
from encaisse.notifications.tasks import after_payment_received

from .exceptions import ChequeRefused, InvalidTransition, UnknownPaymentMethod
from .models import Payment, PaymentMethod, PaymentStatus

CHEQUE_WORDS = frozenset({"cheque", "check", "chèque", "cheques", "chèques", "checks"})
MAX_TOP_UP = Decimal("1000000")
#: Bank entry references (AcctSvcrRef) and PSP ids are far shorter; keys stay within 200 chars.
MAX_REFERENCE = 140


def clean_method(value: str) -> PaymentMethod:
    normalized = (value or "").strip().lower()
    if normalized in CHEQUE_WORDS:
        raise ChequeRefused()
    try:
        return PaymentMethod(normalized)
    except ValueError as exc:
        raise UnknownPaymentMethod(value=value) from exc


def clean_amount(value: object) -> Decimal:
    try:
        amount = parse_decimal(value, places=2)
    except MoneyError as exc:
        raise ValidationError(
            _("The amount must be a decimal number with at most 2 decimals, such as 12.50.")
        ) from exc
    if amount <= 0 or amount > MAX_TOP_UP:
        raise ValidationError(_("The amount must be positive and at most %(max)s."), max=MAX_TOP_UP)
    return amount


def cash_account(method: PaymentMethod) -> Account:
    """Where the money sits once received: the bank, or the payment provider's clearing account."""
    if method in (PaymentMethod.CARD, PaymentMethod.PAYPAL):
        return system_account(AccountKind.PSP_CLEARING, method.value)
    return system_account(AccountKind.BANK, "main")


def record_top_up(
    customer: Customer,
    *,
    amount: object,
    method: str,
    reference: str,
    actor: Actor,
    reason: str = "",
) -> tuple[LedgerTransaction, bool]:
    """Credit the prepaid account once per (method, reference) and settle open invoices."""
    pay_method = clean_method(method)
    value = clean_amount(amount)
    if not reference.strip():
        raise ValidationError(
            _("A payment needs the reference of its source (bank entry, PSP id).")
        )
    if len(reference.strip()) > MAX_REFERENCE:
        raise ValidationError(
            _("A payment reference has at most %(max)s characters."), max=MAX_REFERENCE
        )
    key = f"topup:{pay_method.value}:{reference.strip()}"
    with transaction.atomic():
        prepaid = customer_account(customer, AccountKind.PREPAID)
        receivable = customer_account(customer, AccountKind.RECEIVABLE)
        cash = cash_account(pay_method)
        # Every account this top-up and its settlements touch, locked at once in id order.
        lock_accounts(sorted({cash.pk, prepaid.pk, receivable.pk}))
        txn, created = post(
            key=key,
            kind=TransactionKind.TOP_UP,
            description=f"Top-up by {pay_method.label}: {reference}"[:200],
            legs=[Leg(cash, value), Leg(prepaid, -value)],
            actor=actor,
            reason=reason,
            customer=customer,
        )
        if created:
            settle_open_invoices(customer, trigger=f"topup:{txn.pk}", actor=actor)
            if settings.ENCAISSE_EMAIL_NOTIFICATIONS:
                after_payment_received(txn.pk)
    return txn, created


def record_staff_payment(
    customer: Customer, *, user: Any, amount: Decimal, method: str, reference: str, reason: str
) -> tuple[LedgerTransaction, bool]:
    """Credit the prepaid balance (settling open invoices) and log who did it and why, at once."""
    actor = Actor.staff(user)
    with transaction.atomic():
        txn, created = record_top_up(
            customer, amount=amount, method=method, reference=reference, actor=actor, reason=reason
        )
        if created:
            audit.record(
                "encaisse.payment.recorded_by_staff",
                actor=actor,
                obj=customer,
                reason=reason,
                amount=str(amount),
                method=method,
                reference=reference,
                transaction=txn.pk,
            )
    return txn, created


def reverse_top_up(top_up: LedgerTransaction, *, actor: Actor, reason: str) -> LedgerTransaction:
    """Book money that went back (refund, chargeback, SEPA return) — it never fails (decisions §2).

    The prepaid balance gives back what it can down to its floor; the rest becomes an amount due
    on the customer's receivable, so the floor CHECK holds and dunning picks the debt up.
    """
    from encaisse.invoicing.settlement import available_balance

    if top_up.kind != TransactionKind.TOP_UP or top_up.customer is None:
        raise ValidationError(_("Only a top-up can be reversed this way."))
    if not reason.strip():
        raise ValidationError(_("A reversal needs a reason."))
    with transaction.atomic():
        customer = top_up.customer
        prepaid = customer_account(customer, AccountKind.PREPAID)
        receivable = customer_account(customer, AccountKind.RECEIVABLE)
        cash = top_up.entries.select_related("account").exclude(account=prepaid).get()
        locked = lock_accounts(sorted([prepaid.pk, receivable.pk, cash.account_id]))
        already = LedgerTransaction.objects.filter(reverses=top_up).first()
        if already is not None:  # replayed return or chargeback: booked once, as first computed
            return already
        amount = cash.amount
        covered = min(amount, available_balance(locked[prepaid.pk]))
        legs = [
            Leg(cash.account, -amount),
            Leg(prepaid, covered),
            Leg(receivable, amount - covered),
        ]
        txn, _created = post(
            key=f"reversal:{top_up.pk}",
            kind=TransactionKind.REVERSAL,
            description=f"Reversal of {top_up.description}"[:200],
            legs=[leg for leg in legs if leg.amount],
            actor=actor,
            reason=reason,
            customer=customer,
            reverses=top_up,
        )
    return txn


def _transition(payment: Payment, target: PaymentStatus, *, actor: Actor, reason: str) -> Payment:
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    if locked.status == target:
        return locked
    if locked.status != PaymentStatus.PENDING:
        raise InvalidTransition(state=locked.status, target=target)
    locked.status = target
    locked.failure_reason = reason if target != PaymentStatus.SUCCEEDED else ""
    locked.save(update_fields=["status", "failure_reason", "updated_at"])
    audit.record(
        f"encaisse.payment.{target}",
        actor=actor,
        obj=locked,
        reason=reason,
        amount=str(locked.amount),
        method=locked.method,
    )
    return locked


def confirm_payment(payment: Payment, *, actor: Actor) -> Payment:
    """The provider says the money was collected: credit the balance (settles the invoice)."""
    with transaction.atomic():
        locked = _transition(payment, PaymentStatus.SUCCEEDED, actor=actor, reason="")
        record_top_up(
            locked.customer,
            amount=locked.amount,
            method=PaymentMethod.OTHER
            if locked.method not in PaymentMethod.values
            else locked.method,
            reference=f"payment:{locked.pk}",
            actor=actor,
            reason=f"Collected by {locked.method}",
        )
    return locked


def fail_payment(payment: Payment, *, actor: Actor, reason: str) -> Payment:
    """The collection failed: nothing was credited; the invoice stays due for the next method."""
    with transaction.atomic():
        return _transition(payment, PaymentStatus.FAILED, actor=actor, reason=reason)
