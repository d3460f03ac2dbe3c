# SPDX-License-Identifier: AGPL-3.0-or-later
"""Every API answer carries ``Cache-Control: no-store``: successes, errors and the PDF download."""

import pytest
from django.core.files.base import ContentFile
from django.http import HttpResponse
from django.test import RequestFactory

from encaisse.api.headers import NoStoreMiddleware
from encaisse.invoicing.models import Invoice


def _no_store(response) -> bool:
    return response["Cache-Control"] == "no-store"


def test_reads_and_writes_are_not_stored(api, customer_body):
    created = api.post("/customers", customer_body)
    assert created.status_code == 201, created.content
    read = api.get(f"/customers/{created.json()['number']}")

    assert _no_store(created)
    assert _no_store(read)


@pytest.mark.parametrize(
    ("path", "status"),
    [("/customers", 401), ("/no-such-operation", 404)],
)
def test_errors_outside_operations_are_not_stored(anonymous, path, status):
    response = anonymous.get(path)

    assert response.status_code == status
    assert _no_store(response)


def test_a_wrong_method_answered_outside_ninja_is_not_stored(api):
    response = api.client.delete("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {api.raw_key}")

    assert response.status_code == 405
    assert _no_store(response)


def test_unknown_paths_under_the_api_root_are_not_stored(client, db):
    response = client.get("/api/v9/anything")

    assert response.status_code == 404
    assert _no_store(response)


def test_validation_errors_are_not_stored(api):
    response = api.post("/customers", {"name": ""})

    assert response.status_code == 422
    assert _no_store(response)


def test_the_invoice_pdf_download_is_not_stored(api, make_customer, charge):
    customer = make_customer()
    charge(customer, "9.90")
    number = api.post(f"/customers/{customer.number}/invoices").json()["invoice"]["number"]
    invoice = Invoice.objects.get(number=number)
    invoice.pdf.save("stored.pdf", ContentFile(b"%PDF-1.7 stored"), save=False)
    Invoice.objects.filter(pk=invoice.pk).update(pdf=invoice.pdf.name)

    response = api.get(f"/invoices/{number}/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert _no_store(response)


def test_the_openapi_document_and_the_docs_page_are_not_stored(client, db):
    assert _no_store(client.get("/api/v1/openapi.json"))
    assert _no_store(client.get("/api/v1/docs"))


def test_a_server_error_or_a_cacheable_answer_is_turned_into_no_store():
    def answer(request):
        response = HttpResponse("boom", status=500)
        response["Cache-Control"] = "public, max-age=3600"
        return response

    response = NoStoreMiddleware(answer)(RequestFactory().get("/api/v1/customers"))

    assert response.status_code == 500
    assert _no_store(response)


def test_pages_outside_the_api_are_left_alone():
    def answer(request):
        response = HttpResponse("page")
        response["Cache-Control"] = "max-age=60"
        return response

    response = NoStoreMiddleware(answer)(RequestFactory().get("/panel/login/"))

    assert response["Cache-Control"] == "max-age=60"
