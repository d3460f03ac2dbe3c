# SPDX-License-Identifier: AGPL-3.0-or-later
"""Credit notes: the only way to correct an issued invoice (it is never edited nor deleted).

A credit note is an invoice of kind ``credit_note`` in its own gapless series (``AV2026-…``) that
references the credited invoice (CGI art. 242 nonies A, EN 16931 BG-3). Its journal transaction
reverses revenue and VAT; on the customer's side it first cancels what is still due on the
invoice, and whatever the customer had already paid is given back to the prepaid balance.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.exceptions import ValidationError
from encaisse.core.money import from_cents, to_cents, vat_cents
from encaisse.ledger import keys
from encaisse.ledger.accounts import customer_account, system_account, vat_account
from encaisse.ledger.models import AccountKind, TransactionKind
from encaisse.ledger.services import Leg, lock_accounts, post

from . import hooks
from .charges import clean_positive, clean_vat_rate
from .exceptions import InvalidAmount, NothingToCredit
from .issuance import allocate_numbers
from .models import Charge, Invoice, InvoiceKind
from .settlement import settle_open_invoices
from .status import invoice_status


@dataclass(frozen=True)
class CreditLine:
    description: str
    amount_excl_vat: Decimal
    vat_rate: Decimal


def _per_rate(breakdowns: list[list[dict[str, str]]]) -> dict[Decimal, tuple[int, int]]:
    """Σ (base, VAT) in cents per rate over VAT breakdowns (EN 16931 BG-23)."""
    totals: dict[Decimal, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for breakdown in breakdowns:
        for item in breakdown:
            rate = Decimal(item["rate"])
            base, vat = totals[rate]
            totals[rate] = (
                base + to_cents(Decimal(item["base"])),
                vat + to_cents(Decimal(item["vat"])),
            )
    return totals


def _left_to_credit(invoice: Invoice) -> dict[Decimal, tuple[int, int]]:
    """(base, VAT) per rate not credited yet by earlier credit notes."""
    original = _per_rate([invoice.vat_breakdown])
    done = _per_rate([note.vat_breakdown for note in invoice.credit_notes.all()])
    return {
        rate: (base - done[rate][0], vat - done[rate][1]) for rate, (base, vat) in original.items()
    }


def _lines_or_rest(invoice: Invoice, lines: list[CreditLine] | None) -> list[CreditLine]:
    if lines is not None:
        return [
            CreditLine(
                line.description.strip()[:200] or "Avoir",
                clean_positive(line.amount_excl_vat, field="amount", places=2, allow_zero=False),
                clean_vat_rate(line.vat_rate),
            )
            for line in lines
        ]
    rest = []
    for rate, (base, _vat) in sorted(_left_to_credit(invoice).items()):
        if base > 0:
            rest.append(
                CreditLine(f"Avoir sur la facture {invoice.number}", from_cents(base), rate)
            )
    return rest


def _credit_amounts(invoice: Invoice, lines: list[CreditLine]) -> dict[Decimal, tuple[int, int]]:
    """(base, VAT) to credit per rate, never more than is left on the invoice.

    VAT is rounded on the credited base, capped by the VAT left; the credit that empties a rate
    takes exactly the VAT left, so all the credit notes of an invoice add up to its VAT.
    """
    left = _left_to_credit(invoice)
    bases: dict[Decimal, int] = defaultdict(int)
    for line in lines:
        bases[line.vat_rate] += to_cents(line.amount_excl_vat)
    amounts = {}
    for rate, base in bases.items():
        base_left, vat_left = left.get(rate, (0, 0))
        if base > base_left:
            raise InvalidAmount(field="amount", places=2)
        vat = vat_left if base == base_left else min(vat_cents(base, rate), vat_left)
        amounts[rate] = (base, vat)
    return amounts


def _create_note(
    invoice: Invoice, lines: list[CreditLine], amounts: dict[Decimal, tuple[int, int]], actor: Actor
) -> Invoice:
    excl = sum(base for base, _ in amounts.values())
    vat = sum(v for _, v in amounts.values())
    today = timezone.localdate()
    (number,) = allocate_numbers(InvoiceKind.CREDIT_NOTE, today, 1)
    note = Invoice.objects.create(
        number=number,
        kind=InvoiceKind.CREDIT_NOTE,
        customer=invoice.customer,
        issue_date=today,
        due_date=today,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        currency=invoice.currency,
        total_excl_vat=from_cents(excl),
        total_vat=from_cents(vat),
        total_incl_vat=from_cents(excl + vat),
        **Invoice.vat_fields(
            [
                {"rate": f"{r:.2f}", "base": str(from_cents(b)), "vat": str(from_cents(v))}
                for r, (b, v) in sorted(amounts.items())
            ]
        ),
        buyer_id=invoice.buyer_id,  # the buyer the credited invoice shows
        credited_invoice=invoice,
        paid=from_cents(excl + vat),
        status=invoice_status(
            total=from_cents(excl + vat), paid=from_cents(excl + vat), credited=Decimal(0)
        ),
        created_at=timezone.now(),
    )
    Charge.objects.bulk_create(
        Charge(
            customer=invoice.customer,
            invoice=note,
            description=line.description,
            quantity=Decimal(1),
            unit_price=line.amount_excl_vat,
            vat_rate=line.vat_rate,
            amount=line.amount_excl_vat,
            period_start=invoice.period_start or today,
            period_end=invoice.period_end or today,
            **actor.fields(),
        )
        for line in lines
    )
    return note


def _post_note(invoice: Invoice, note: Invoice, actor: Actor, reason: str) -> Decimal:
    """Reverse revenue/VAT; cancel the amount due first, give back what was paid; return the refund."""
    customer = invoice.customer
    cancel_due = min(note.total_incl_vat, invoice.amount_due)
    refund = note.total_incl_vat - cancel_due
    legs = [Leg(system_account(AccountKind.REVENUE), note.total_excl_vat)]
    legs += [Leg(vat_account(Decimal(i["rate"])), Decimal(i["vat"])) for i in note.vat_breakdown]
    legs += [Leg(customer_account(customer, AccountKind.RECEIVABLE), -cancel_due)]
    legs += [Leg(customer_account(customer, AccountKind.PREPAID), -refund)]
    post(
        key=keys.credit_note_issued(note.pk),
        kind=TransactionKind.CREDIT_NOTE,
        description=f"Credit note {note.number} for invoice {invoice.number}",
        legs=[leg for leg in legs if leg.amount],
        actor=actor,
        reason=reason,
        customer=customer,
        invoice_id=note.pk,
    )
    return refund


def _lock_accounts_of(invoice: Invoice) -> None:
    """Lock, in one ascending pass, every account the credit note may touch (the customer's first)."""
    customer = invoice.customer
    ids = {system_account(AccountKind.REVENUE).pk}
    ids |= {vat_account(Decimal(item["rate"])).pk for item in invoice.vat_breakdown}
    ids |= {
        customer_account(customer, kind).pk
        for kind in (AccountKind.PREPAID, AccountKind.RECEIVABLE)
    }
    lock_accounts(sorted(ids))


def issue_credit_note(
    invoice: Invoice, *, actor: Actor, reason: str, lines: list[CreditLine] | None = None
) -> Invoice:
    """Credit ``lines`` of ``invoice`` (by default everything not credited yet)."""
    if not reason.strip():
        raise ValidationError(_("A credit note needs a reason."))
    with transaction.atomic():
        _lock_accounts_of(invoice)
        invoice = Invoice.objects.get(pk=invoice.pk, kind=InvoiceKind.INVOICE)
        wanted = _lines_or_rest(invoice, lines)
        if not wanted:
            raise NothingToCredit(number=invoice.number)
        note = _create_note(invoice, wanted, _credit_amounts(invoice, wanted), actor)
        refund = _post_note(invoice, note, actor, reason)
        invoice.credited += note.total_incl_vat
        invoice.paid -= refund
        invoice.status = invoice_status(
            total=invoice.total_incl_vat, paid=invoice.paid, credited=invoice.credited
        )
        invoice.save(update_fields=["credited", "paid", "status"])
        if refund:
            # Money given back arrives like a top-up: it pays what is still due, oldest first.
            settle_open_invoices(
                invoice.customer, trigger=keys.after_credit_note(note.pk), actor=actor
            )
        audit.record(
            "encaisse.invoice.credited",
            actor=actor,
            obj=invoice,
            reason=reason,
            credit_note=note.number,
            amount=str(note.total_incl_vat),
            refunded=str(refund),
        )
        hooks.credit_note_issued(note.pk, invoice.pk)
    return note
