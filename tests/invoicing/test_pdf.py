# SPDX-License-Identifier: AGPL-3.0-or-later
"""The invoice PDF: PDF/A-3b, the legal mentions, the customer's language, stored once."""

from __future__ import annotations

import re
import zlib
from decimal import Decimal

import pytest
from stdnum import iban

from encaisse.invoicing.models import Invoice
from encaisse.invoicing.pdf import (
    build_invoice_pdf,
    paid_at_issuance,
    render_invoice_html,
    render_invoice_pdf,
)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def partly_paid_invoice(make_customer, charge, top_up, bill) -> Invoice:
    customer = make_customer(
        name="Atelier Numérique SARL", siret="73282932000074", vat_number="FR44732829320"
    )
    charge(customer, "14.90", description="Hébergement Pro")
    charge(customer, "12.00", vat_rate="20", description="Nom de domaine .fr")
    top_up(customer, "20.00")
    bill()
    return Invoice.objects.get(customer=customer)


def _inflate(data: bytes) -> bytes:
    """The PDF with its Flate streams decompressed (no PDF library is a dependency).

    WeasyPrint packs objects, including the XMP packet and the page dictionaries, into compressed
    streams; a plain byte search would find neither.
    """
    chunks = [data]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL):
        try:
            chunks.append(zlib.decompress(stream))
        except zlib.error:
            continue
    return b"\n".join(chunks)


def _xmp(data: bytes) -> str:
    match = re.search(rb"<x:xmpmeta.*?</x:xmpmeta>", _inflate(data), re.DOTALL)
    assert match, "no XMP metadata packet in the PDF"
    return match.group().decode()


def test_pdf_is_pdf_a_3b_with_the_invoice_number(media, partly_paid_invoice):
    data = build_invoice_pdf(partly_paid_invoice)

    assert data.startswith(b"%PDF-")
    xmp = _xmp(data)
    assert re.search(r"pdfaid:part(>|=\")3", xmp)
    assert re.search(r"pdfaid:conformance(>|=\")B", xmp)
    assert partly_paid_invoice.number in xmp  # the document title
    assert b"/OutputIntents" in _inflate(data)


def test_pdf_is_one_page_for_a_normal_invoice(media, partly_paid_invoice):
    data = build_invoice_pdf(partly_paid_invoice)

    assert len(re.findall(rb"/Type\s*/Page\b", _inflate(data))) == 1


def test_html_carries_the_french_legal_mentions_for_a_professional(partly_paid_invoice, settings):
    invoice = partly_paid_invoice
    html = render_invoice_html(invoice)

    seller = settings.ENCAISSE_SELLER
    for text in (
        seller["siret"],
        seller["vat_number"],
        iban.format(seller["iban"]),
        seller["bic"],
        seller["name"],
        invoice.number,
        invoice.buyer.number,
        "FR44732829320",
        "73282932000074",
        "Hébergement Pro",
        "Nom de domaine .fr",
    ):
        assert text in html, text
    assert "pénalités de retard au taux de trois fois le taux d'intérêt légal" in html
    assert "indemnité forfaitaire pour frais de recouvrement de 40,00\xa0€" in html
    assert "Pas d'escompte pour paiement anticipé" in html
    assert "Les chèques ne sont pas acceptés" in html


def test_amounts_follow_the_customer_language(make_customer, charge, bill):
    french, english = make_customer(), make_customer(language="en")
    charge(french, "1234.50")
    charge(english, "1234.50")
    bill()

    fr_html = render_invoice_html(Invoice.objects.get(customer=french))
    en_html = render_invoice_html(Invoice.objects.get(customer=english))

    assert "1\u202f234,50\xa0€" in fr_html
    assert "1\u202f481,40\xa0€" in fr_html  # 1234.50 + 20 % VAT
    assert "€1,234.50" in en_html
    assert 'lang="en"' in en_html


def test_paid_and_due_amounts_are_those_of_issuance(partly_paid_invoice, top_up):
    invoice = partly_paid_invoice
    assert invoice.total_incl_vat == Decimal("32.28")
    assert paid_at_issuance(invoice) == Decimal("20.00")

    top_up(invoice.customer, "50.00")  # settles the rest later: the document does not change
    html = render_invoice_html(Invoice.objects.get(pk=invoice.pk))

    assert paid_at_issuance(invoice) == Decimal("20.00")
    assert "12,28\xa0€" in html  # amount due at issuance


def test_individuals_get_no_professional_penalty_clause(make_customer, charge, bill):
    person = make_customer(kind="individual", name="Jeanne Martin")
    charge(person)
    bill()

    html = render_invoice_html(Invoice.objects.get(customer=person))

    assert "taux d'intérêt légal" not in html
    assert "frais de recouvrement" not in html
    assert "Pas d'escompte pour paiement anticipé" in html


def test_render_stores_the_pdf_once(media, partly_paid_invoice):
    invoice = partly_paid_invoice

    render_invoice_pdf(invoice)
    stored = Invoice.objects.get(pk=invoice.pk).pdf.name
    render_invoice_pdf(invoice)
    render_invoice_pdf(Invoice.objects.get(pk=invoice.pk))

    assert stored.endswith(f"{invoice.number}.pdf")
    assert Invoice.objects.get(pk=invoice.pk).pdf.name == stored
    assert (media / stored).read_bytes().startswith(b"%PDF-")
    assert len(list(media.rglob("*.pdf"))) == 1


def test_a_stale_copy_keeps_the_pdf_stored_first(media, partly_paid_invoice):
    stale = Invoice.objects.get(pk=partly_paid_invoice.pk)
    render_invoice_pdf(partly_paid_invoice)

    render_invoice_pdf(stale)  # loaded before the PDF existed, e.g. by a second worker

    assert stale.pdf.name == Invoice.objects.get(pk=stale.pk).pdf.name
    assert len(list(media.rglob("*.pdf"))) == 1


def test_rendering_task_renders_missing_pdfs(media, partly_paid_invoice):
    from encaisse.invoicing.tasks import render_invoice_pdfs

    assert render_invoice_pdfs.call([partly_paid_invoice.pk]) == 1
    assert render_invoice_pdfs.call([partly_paid_invoice.pk]) == 0
    assert Invoice.objects.get(pk=partly_paid_invoice.pk).pdf


def test_credit_note_references_the_credited_invoice(media, partly_paid_invoice):
    from encaisse.core.actors import Actor
    from encaisse.invoicing.credit_notes import issue_credit_note

    invoice = partly_paid_invoice
    note = issue_credit_note(invoice, actor=Actor.system("tests"), reason="Service outage")

    html = render_invoice_html(note)
    data = build_invoice_pdf(note)

    assert "<h1>Avoir</h1>" in html
    assert note.number in html
    assert invoice.number in html
    assert "20,00\xa0€" in html  # what had been paid goes back to the prepaid balance
    assert "12,28\xa0€" in html  # the rest cancels what was still due
    assert "Montant dû" not in html
    assert note.number in _xmp(data)
