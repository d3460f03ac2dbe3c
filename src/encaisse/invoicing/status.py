# SPDX-License-Identifier: AGPL-3.0-or-later
"""The one rule that decides an invoice's status from its settlement columns.

An issued invoice is never edited (CGI art. 242 nonies A): only what has been paid (from the
prepaid balance, at issuance or later) and what credit notes have cancelled move, and the status
follows from them. It is decided here, in Python (:func:`invoice_status`) and in SQL for the
set-based issuance (:func:`status_sql`); a test proves the two agree.

>>> from decimal import Decimal as D
>>> invoice_status(total=D("12.00"), paid=D("12.00"), credited=D(0))
InvoiceStatus.PAID
>>> invoice_status(total=D("12.00"), paid=D("5.00"), credited=D(0))
InvoiceStatus.OPEN
>>> invoice_status(total=D("12.00"), paid=D("5.00"), credited=D("7.00"))
InvoiceStatus.PAID
>>> invoice_status(total=D("12.00"), paid=D(0), credited=D("12.00"))
InvoiceStatus.CANCELLED
>>> invoice_status(total=D(0), paid=D(0), credited=D(0))
InvoiceStatus.PAID
"""

from __future__ import annotations

from decimal import Decimal

from .models import InvoiceStatus


def invoice_status(*, total: Decimal, paid: Decimal, credited: Decimal) -> InvoiceStatus:
    """Cancelled when credit notes cancel all of it, paid when nothing is left due, else open.

    A credit note itself is issued paid (it is money owed *to* the customer, settled at once on
    the prepaid balance or against what was due)."""
    if total and credited == total:
        return InvoiceStatus.CANCELLED
    if paid + credited == total:
        return InvoiceStatus.PAID
    return InvoiceStatus.OPEN


def status_sql(total: str, paid: str, credited: str = "0") -> str:
    """:func:`invoice_status` over SQL expressions (integer cents), for set-based statements.

    Nothing is credited on an invoice being issued (``credited`` left at ``"0"``): it can then
    only be paid or open, and the shorter form saves the billing run a comparison per invoice."""
    if credited == "0":
        return (
            f"CASE WHEN {paid} = {total} THEN '{InvoiceStatus.PAID.value}' "
            f"ELSE '{InvoiceStatus.OPEN.value}' END"
        )
    return (
        f"CASE WHEN {total} <> 0 AND {credited} = {total} "
        f"THEN '{InvoiceStatus.CANCELLED.value}' "
        f"WHEN {paid} + {credited} = {total} THEN '{InvoiceStatus.PAID.value}' "
        f"ELSE '{InvoiceStatus.OPEN.value}' END"
    )
