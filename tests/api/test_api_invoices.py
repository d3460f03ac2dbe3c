# SPDX-License-Identifier: AGPL-3.0-or-later
"""Invoices through the API: issue now, list, read with lines and VAT, download the PDF."""

import importlib.util

import pytest
from django.core.files.base import ContentFile

from encaisse.invoicing.models import Invoice


@pytest.fixture
def issued(api, make_customer, charge, top_up):
    """A customer with two charges and 5.00 of balance, invoiced through the API."""
    customer = make_customer()
    charge(customer, "9.90", description="Hébergement Pro")
    charge(customer, "2.00", vat_rate="5.5", description="Option sauvegarde")
    top_up(customer, "5.00")
    response = api.post(f"/customers/{customer.number}/invoices")
    assert response.status_code == 201, response.content
    return customer, response.json()["invoice"]


def test_issuing_now_returns_the_invoice_with_lines_vat_and_totals(issued):
    customer, invoice = issued

    assert invoice["customer"] == customer.number
    assert [line["description"] for line in invoice["lines"]] == [
        "Hébergement Pro",
        "Option sauvegarde",
    ]
    assert invoice["lines"][0]["amount"] == "9.90"
    assert invoice["vat_breakdown"] == [
        {"rate": "5.50", "base": "2.00", "vat": "0.11"},
        {"rate": "20.00", "base": "9.90", "vat": "1.98"},
    ]
    assert (invoice["total_excl_vat"], invoice["total_vat"], invoice["total_incl_vat"]) == (
        "11.90",
        "2.09",
        "13.99",
    )
    assert (invoice["paid"], invoice["amount_due"], invoice["status"]) == ("5.00", "8.99", "open")
    assert invoice["buyer"]["number"] == customer.number


def test_nothing_to_invoice_answers_200_with_no_invoice(api, issued):
    customer, _invoice = issued

    response = api.post(f"/customers/{customer.number}/invoices")

    assert response.status_code == 200
    assert response.json() == {"invoice": None}
    assert Invoice.objects.filter(customer=customer).count() == 1


def test_an_issued_invoice_reads_back_the_same(api, issued):
    _customer, invoice = issued

    response = api.get(f"/invoices/{invoice['number']}")

    assert response.status_code == 200
    assert response.json() == invoice


def test_invoices_are_listed_and_filtered(api, issued, make_customer, charge, bill):
    customer, invoice = issued
    other = make_customer()
    charge(other, "1.00")
    bill()

    assert api.get("/invoices").json()["count"] == 2
    mine = api.get("/invoices", {"customer": customer.number}).json()
    assert [i["number"] for i in mine["items"]] == [invoice["number"]]
    assert mine["items"][0]["amount_due"] == "8.99"
    assert api.get("/invoices", {"customer": customer.number, "status": "paid"}).json() == {
        "items": [],
        "count": 0,
    }
    assert api.get("/invoices", {"status": "unknown"}).status_code == 422
    assert api.get("/invoices", {"customer": "C9999999"}).status_code == 404


def test_an_unknown_invoice_is_a_404(api, db):
    response = api.get("/invoices/FA-0000-000000")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api.get("/invoices/FA-0000-000000/pdf").status_code == 404


def test_a_stored_pdf_is_served_as_is(api, issued):
    _customer, data = issued
    invoice = Invoice.objects.get(number=data["number"])
    invoice.pdf.save("stored.pdf", ContentFile(b"%PDF-1.7 stored"), save=False)
    Invoice.objects.filter(pk=invoice.pk).update(pdf=invoice.pdf.name)

    response = api.get(f"/invoices/{invoice.number}/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"{invoice.number}.pdf" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"%PDF-1.7 stored"


@pytest.mark.skipif(
    importlib.util.find_spec("encaisse.invoicing.pdf") is None,
    reason="encaisse.invoicing.pdf (the PDF renderer) is not available yet",
)
def test_a_missing_pdf_is_rendered_on_request_and_kept(api, issued):
    _customer, data = issued
    assert data["has_pdf"] is False

    response = api.get(f"/invoices/{data['number']}/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert Invoice.objects.get(number=data["number"]).pdf
    assert api.get(f"/invoices/{data['number']}").json()["has_pdf"] is True
