# SPDX-License-Identifier: AGPL-3.0-or-later
"""Money coming in and going back: top-ups of the prepaid account and their reversals.

Every way money arrives (a provider's payment, a transfer, a mandat administratif, a payment staff
record) ends in one journal transaction crediting the prepaid account, keyed by the source's own
unique reference (``ledger.keys.top_up``), then the open invoices are settled from the balance,
oldest first, and the follow-ups of money received run after commit (``payments.hooks``).
:func:`record_top_up` takes money recorded by a method (:class:`PaymentMethod`);
:func:`credit_payment` takes a provider's payment that succeeded, from the provider's clearing
account. Cheques are refused everywhere with the same message (decisions §6).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.exceptions import ValidationError
from encaisse.core.money import MoneyError, parse_decimal
from encaisse.core.text import clean_text
from encaisse.customers.models import Customer
from encaisse.invoicing.settlement import available_balance, settle_open_invoices
from encaisse.ledger import keys
from encaisse.ledger.accounts import customer_account, system_account
from encaisse.ledger.models import Account, AccountKind, LedgerTransaction, TransactionKind
from encaisse.ledger.services import Leg, lock_accounts, post

from . import hooks
from .exceptions import ChequeRefused, UnknownPaymentMethod
from .models import Payment, PaymentMethod

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


def clean_reference(value: str) -> str:
    reference = clean_text(value, field=_("reference"))
    if not reference:
        raise ValidationError(
            _("A payment needs the reference of its source (bank entry, PSP id).")
        )
    if len(reference) > MAX_REFERENCE:
        raise ValidationError(
            _("A payment reference has at most %(max)s characters."), max=MAX_REFERENCE
        )
    return reference


def cash_account(method: PaymentMethod) -> Account:
    """Where money recorded by hand sits: the bank, or the clearing account of card/PayPal."""
    if method in (PaymentMethod.CARD, PaymentMethod.PAYPAL):
        return system_account(AccountKind.PSP_CLEARING, method.value)
    return system_account(AccountKind.BANK, "main")


def provider_clearing_account(provider: str) -> Account:
    """Where a provider holds the money it collected until it pays it out: ``psp_clearing:<id>``."""
    return system_account(AccountKind.PSP_CLEARING, provider)


def _credit_prepaid(
    customer: Customer,
    *,
    amount: Decimal,
    key: str,
    cash: Account,
    description: str,
    actor: Actor,
    reason: str,
) -> tuple[LedgerTransaction, bool]:
    with transaction.atomic():
        prepaid = customer_account(customer, AccountKind.PREPAID)
        receivable = customer_account(customer, AccountKind.RECEIVABLE)
        # Every account this top-up and its settlements touch, locked at once in the lock order.
        lock_accounts(sorted({cash.pk, prepaid.pk, receivable.pk}))
        txn, created = post(
            key=key,
            kind=TransactionKind.TOP_UP,
            description=description[:200],
            legs=[Leg(cash, amount), Leg(prepaid, -amount)],
            actor=actor,
            reason=reason,
            customer=customer,
        )
        if created:
            settle_open_invoices(customer, trigger=keys.after_top_up(txn.pk), actor=actor)
            hooks.top_up_recorded(txn.pk)
    return txn, created


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
    source = clean_reference(reference)
    reason = clean_text(reason, field=_("reason"), multiline=True)
    return _credit_prepaid(
        customer,
        amount=value,
        key=keys.top_up(pay_method.value, source),
        cash=cash_account(pay_method),
        description=f"Top-up by {pay_method.label}: {source}",
        actor=actor,
        reason=reason,
    )


def credit_payment(payment: Payment, *, actor: Actor) -> tuple[LedgerTransaction, bool]:
    """Credit a provider's payment that succeeded, once, from the provider's clearing account.

    Keyed by the provider and its own reference (our payment id while it has none), so a payment
    recorded twice, by a webhook and by the janitor, is credited once. Called by
    ``transitions.succeed_payment`` only.
    """
    source = clean_reference(payment.external_ref or str(payment.pk))
    return _credit_prepaid(
        payment.customer,
        amount=payment.amount,
        key=keys.top_up(payment.provider, source),
        cash=provider_clearing_account(payment.provider),
        description=f"Top-up by {payment.provider}: {source}",
        actor=actor,
        reason=f"Invoice {payment.invoice.number}" if payment.invoice is not None else "",
    )


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


def refund_booked(top_up: LedgerTransaction, reference: str) -> bool:
    """Whether the part of ``top_up`` given back by refund ``reference`` is already booked."""
    key = keys.refund(top_up.pk, reference.strip())
    return LedgerTransaction.objects.filter(idempotency_key=key).exists()


def reverse_top_up(
    top_up: LedgerTransaction,
    *,
    actor: Actor,
    reason: str,
    amount: Decimal | None = None,
    reference: str = "",
) -> LedgerTransaction:
    """Book money that went back (refund, chargeback, SEPA return) — it never fails (decisions §2).

    The prepaid balance gives back what it can down to its floor; the rest becomes an amount due
    on the customer's receivable, so the floor CHECK holds and dunning picks the debt up.

    Without ``amount``, the whole top-up goes back: its one mirror transaction, booked once
    (``keys.reversal``). With ``amount``, part of it goes back (a partial refund), booked once per
    ``reference`` (the provider's refund id); the caller keeps the parts within the top-up.
    """
    if top_up.kind != TransactionKind.TOP_UP or top_up.customer is None:
        raise ValidationError(_("Only a top-up can be reversed this way."))
    if not reason.strip():
        raise ValidationError(_("A reversal needs a reason."))
    if amount is not None and not reference.strip():
        raise ValidationError(_("A partial reversal needs the reference of the refund."))
    with transaction.atomic():
        customer = top_up.customer
        prepaid = customer_account(customer, AccountKind.PREPAID)
        receivable = customer_account(customer, AccountKind.RECEIVABLE)
        cash = top_up.entries.select_related("account").exclude(account=prepaid).get()
        locked = lock_accounts(sorted([prepaid.pk, receivable.pk, cash.account_id]))
        if amount is None:
            already = LedgerTransaction.objects.filter(reverses=top_up).first()
            key = keys.reversal(top_up.pk)
        else:
            key = keys.refund(top_up.pk, reference.strip())
            already = LedgerTransaction.objects.filter(idempotency_key=key).first()
        if already is not None:  # replayed return or chargeback: booked once, as first computed
            return already
        value = cash.amount if amount is None else amount
        if not 0 < value <= cash.amount:
            raise ValidationError(_("A reversal gives back at most the amount of its top-up."))
        covered = min(value, available_balance(locked[prepaid.pk]))
        legs = [
            Leg(cash.account, -value),
            Leg(prepaid, covered),
            Leg(receivable, value - covered),
        ]
        txn, _created = post(
            key=key,
            kind=TransactionKind.REVERSAL,
            description=f"Reversal of {top_up.description}"[:200],
            legs=[leg for leg in legs if leg.amount],
            actor=actor,
            reason=reason,
            customer=customer,
            reverses=top_up if amount is None else None,
        )
    return txn
