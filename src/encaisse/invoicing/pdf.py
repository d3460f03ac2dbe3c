# SPDX-License-Identifier: AGPL-3.0-or-later
"""The PDF of an issued invoice or credit note: the legal original sent to the customer.

Rendered with WeasyPrint from ``invoicing/invoice_pdf.html`` as **PDF/A-3b**, the archival variant
that allows embedded files, so the Factur-X issue can attach its CII XML to these same bytes
(chorus-pro-and-factur-x.md §7). The page carries the mentions French law requires (CGI ann. II
art. 242 nonies A, Code de commerce L441-9, see §5.1 of that document): seller identity, numbers,
dates, service period, buyer, lines, VAT per rate, totals, payment terms, late-payment penalties
and the €40 recovery indemnity for professional buyers, and "no discount for early payment".

Everything shown comes from the frozen invoice row (buyer snapshot, lines, VAT breakdown) and from
the ledger's settlement *at issuance*, never from the live customer or balance: rendering again,
today or in ten years, gives the same document. Amounts and dates are written in the customer's
language by :class:`encaisse.core.formatting.Formatter`, the panel's and back-office's formatter too.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

from babel import Locale
from django.core.files.base import ContentFile
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import translation
from stdnum import iban

from encaisse.core.formatting import BABEL_LOCALES, Formatter
from encaisse.customers.seller import current_seller
from encaisse.ledger import keys
from encaisse.ledger.models import AccountKind, Entry

from .models import Invoice, InvoiceKind

TEMPLATE = "invoicing/invoice_pdf.html"
STYLESHEET = "invoicing/invoice_pdf.css"
PDF_VARIANT = "pdf/a-3b"
PROFESSIONAL_KINDS = frozenset({"company", "public_body"})
_local = threading.local()


def _prepaid_movement(*idempotency_keys: str) -> Decimal:
    """Net debit of the prepaid account by the journal transactions ``idempotency_keys``."""
    total = Entry.objects.filter(
        transaction__idempotency_key__in=idempotency_keys, account__kind=AccountKind.PREPAID
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal(0)


def paid_at_issuance(invoice: Invoice) -> Decimal:
    """What the prepaid balance settled when the invoice was issued (the issuance's ledger posting).

    Later top-ups settle the invoice too, but the document states the situation at issuance so
    that it never depends on when it is rendered. The issuance posting settles in the same journal
    transaction (``invoice:<id>:issued``); invoices issued before that change have a separate
    ``invoice:<id>:settled:issuance``.
    """
    return _prepaid_movement(keys.invoice_issued(invoice.pk), keys.settled_at_issuance(invoice.pk))


def refunded_by_credit_note(note: Invoice) -> Decimal:
    """Part of a credit note given back to the prepaid balance (the rest cancelled an amount due)."""
    return -_prepaid_movement(keys.credit_note_issued(note.pk))


def _period(fmt: Formatter, start: dt.date | None, end: dt.date | None) -> str:
    if not start or not end:
        return ""
    return f"{fmt.date(start, 'medium')} – {fmt.date(end, 'medium')}"


def _lines(invoice: Invoice, fmt: Formatter) -> list[dict[str, str]]:
    return [
        {
            "description": line.description,
            "period": _period(fmt, line.period_start, line.period_end),
            "quantity": fmt.quantity(line.quantity),
            "unit_price": fmt.money(line.unit_price),
            "vat_rate": fmt.rate(line.vat_rate),
            "amount": fmt.money(line.amount),
        }
        for line in invoice.lines.order_by("period_start", "pk")
    ]


def _vat_rows(invoice: Invoice, fmt: Formatter) -> list[dict[str, str]]:
    return [
        {
            "rate": fmt.rate(row["rate"]),
            "base": fmt.money(row["base"]),
            "vat": fmt.money(row["vat"]),
        }
        for row in invoice.vat_breakdown
    ]


def _buyer(invoice: Invoice, locale: str) -> dict[str, Any]:
    buyer: dict[str, Any] = invoice.buyer.as_dict()
    country = buyer.get("country") or "FR"
    buyer["country_name"] = "" if country == "FR" else Locale.parse(locale).territories.get(country)
    buyer["professional"] = buyer.get("kind") in PROFESSIONAL_KINDS
    return buyer


def invoice_context(invoice: Invoice, locale: str) -> dict[str, Any]:
    """Everything the template shows, already formatted: the template holds no logic on money."""
    fmt = Formatter(locale, invoice.currency)
    is_credit_note = invoice.kind == InvoiceKind.CREDIT_NOTE
    paid = Decimal(0) if is_credit_note else paid_at_issuance(invoice)
    due = invoice.total_incl_vat - paid
    refunded = refunded_by_credit_note(invoice) if is_credit_note else Decimal(0)
    credited = invoice.credited_invoice
    seller = current_seller()
    return {
        "language": translation.get_language(),
        "invoice": invoice,
        "is_credit_note": is_credit_note,
        "credited_number": credited.number if credited else "",
        "credited_date": fmt.date(credited.issue_date) if credited else "",
        "seller": seller,
        "iban": iban.format(seller.iban),
        "buyer": _buyer(invoice, locale),
        "issue_date": fmt.date(invoice.issue_date),
        "due_date": fmt.date(invoice.due_date),
        "period": _period(fmt, invoice.period_start, invoice.period_end),
        "lines": _lines(invoice, fmt),
        "vat_rows": _vat_rows(invoice, fmt),
        "total_excl_vat": fmt.money(invoice.total_excl_vat),
        "total_vat": fmt.money(invoice.total_vat),
        "total_incl_vat": fmt.money(invoice.total_incl_vat),
        "paid": fmt.money(paid),
        "has_paid": paid > 0,
        "amount_due": fmt.money(due),
        "has_due": due > 0,
        "refunded": fmt.money(refunded),
        "cancelled_due": fmt.money(invoice.total_incl_vat - refunded),
        "indemnity": fmt.money(Decimal(40)),
    }


def render_invoice_html(invoice: Invoice) -> str:
    """The invoice as HTML in the customer's language (what the PDF is made of)."""
    language = invoice.customer.language
    with translation.override(language):
        context = invoice_context(invoice, BABEL_LOCALES.get(language, language))
        return render_to_string(TEMPLATE, context)


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """No network and no file access while rendering: the template is self-contained."""
    raise ValueError(f"invoice PDFs load no external resource ({url})")


def _stylesheet(language: str) -> tuple[Any, Any]:
    """The parsed style sheet and its font configuration, once per thread and language.

    Parsing the CSS is about a third of a render; caching it brings a one-page invoice from about
    90 ms to 60 ms. Per thread because Pango's font maps are not meant to be shared across threads
    (the admin's PDF view may render in several request threads).
    """
    from weasyprint import CSS  # noqa: PLC0415 - 1.4 s to import: on first render
    from weasyprint.text.fonts import FontConfiguration  # noqa: PLC0415 - same

    cache: dict[str, tuple[Any, Any]] = _local.__dict__.setdefault("stylesheets", {})
    if language not in cache:
        font_config = FontConfiguration()
        with translation.override(language):
            css = CSS(string=render_to_string(STYLESHEET), font_config=font_config)
        cache[language] = (css, font_config)
    return cache[language]


def build_invoice_pdf(invoice: Invoice) -> bytes:
    """PDF/A-3b bytes of the invoice (the Factur-X step embeds its XML into these)."""
    from weasyprint import HTML  # noqa: PLC0415 - 1.4 s to import: on first render

    css, font_config = _stylesheet(invoice.customer.language)
    html = HTML(string=render_invoice_html(invoice), url_fetcher=_refuse_fetch)
    return html.write_pdf(pdf_variant=PDF_VARIANT, stylesheets=[css], font_config=font_config)


def render_invoice_pdf(invoice: Invoice) -> None:
    """Render and store the invoice's PDF once; later calls keep the first file.

    Only the ``pdf`` column of an issued invoice may change (the rest is frozen by triggers), and
    only from empty: if another worker stored a PDF first, ours is deleted and theirs kept.
    """
    if invoice.pdf:
        return
    current = Invoice.objects.filter(pk=invoice.pk).values_list("pdf", flat=True).first()
    if current:
        invoice.pdf.name = current
        return
    invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(build_invoice_pdf(invoice)), save=False)
    stored = invoice.pdf.name or ""
    if not Invoice.objects.filter(pk=invoice.pk, pdf="").update(pdf=stored):
        invoice.pdf.storage.delete(stored)
        invoice.pdf.name = Invoice.objects.values_list("pdf", flat=True).get(pk=invoice.pk)
