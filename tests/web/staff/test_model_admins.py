# SPDX-License-Identifier: AGPL-3.0-or-later
"""Every back-office page opens; money records can be neither deleted nor edited there."""

from __future__ import annotations

import importlib.util

import pytest
from django.contrib import admin
from django.urls import reverse

from encaisse.customers.models import Customer
from encaisse.invoicing.models import Invoice
from encaisse.ledger.models import Entry, LedgerTransaction

APPS = {"core", "customers", "ledger", "invoicing", "payments", "notifications"}
MODEL_ADMINS = sorted(
    f"{model._meta.app_label}.{model._meta.model_name}"
    for model in admin.site._registry
    if model._meta.app_label in APPS
)
READ_ONLY = [
    "core.auditlog",
    "ledger.account",
    "ledger.ledgertransaction",
    "ledger.entry",
    "invoicing.invoice",
    "invoicing.billingrun",
    "payments.payment",
    "payments.inboundevent",
    "notifications.notification",
]


def _admin(label: str):
    return next(
        ma
        for model, ma in admin.site._registry.items()
        if f"{model._meta.app_label}.{model._meta.model_name}" == label
    )


def _url(label: str, view: str, *args) -> str:
    return reverse(f"admin:{label.replace('.', '_')}_{view}", args=args)


def test_the_back_office_is_all_in_webs_staff_package():
    """The apps under web hold no admin module (they may not import web): web registers them."""
    ours = [
        ma for model, ma in admin.site._registry.items() if model.__module__.startswith("encaisse.")
    ]

    assert {type(ma).__module__.rpartition(".")[0] for ma in ours} == {"encaisse.web.staff"}
    for app in ("core", "ledger", "customers", "invoicing", "payments", "api", "notifications"):
        assert importlib.util.find_spec(f"encaisse.{app}.admin") is None, app


def test_every_money_model_is_in_the_back_office():
    assert set(MODEL_ADMINS) >= {
        "core.auditlog",
        "customers.customer",
        "ledger.account",
        "ledger.ledgertransaction",
        "ledger.entry",
        "invoicing.invoice",
        "invoicing.charge",
        "invoicing.plan",
        "invoicing.subscription",
        "invoicing.billingrun",
        "payments.payment",
    }


@pytest.mark.parametrize("label", MODEL_ADMINS)
def test_staff_opens_the_changelist_and_a_detail_page(admin_client, books, label):
    model = _admin(label).model
    obj = model.objects.order_by("pk").first()
    assert obj is not None, f"the books fixture has no {label}"

    assert admin_client.get(_url(label, "changelist")).status_code == 200
    assert admin_client.get(_url(label, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize(
    "label", ["customers.customer", "invoicing.charge", "invoicing.plan", "invoicing.subscription"]
)
def test_staff_opens_the_add_form_where_adding_is_allowed(admin_client, books, label):
    assert admin_client.get(_url(label, "add")).status_code == 200


@pytest.mark.parametrize("label", READ_ONLY)
def test_money_records_refuse_add_change_and_delete(rf, admin_user, label):
    request = rf.get("/")
    request.user = admin_user
    model_admin = _admin(label)

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_an_invoice_cannot_be_deleted(admin_client, books):
    invoice = books.invoice

    assert admin_client.get(_url("invoicing.invoice", "delete", invoice.pk)).status_code == 403
    response = admin_client.post(
        _url("invoicing.invoice", "changelist"),
        {"action": "delete_selected", "_selected_action": [invoice.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_an_invoice_cannot_be_edited(admin_client, books):
    invoice = books.invoice
    response = admin_client.post(
        _url("invoicing.invoice", "change", invoice.pk), {"total_incl_vat": "0.00"}
    )

    assert response.status_code == 403
    assert Invoice.objects.get(pk=invoice.pk).total_incl_vat == invoice.total_incl_vat


def test_entries_and_transactions_cannot_be_deleted(admin_client, books):
    entry = Entry.objects.order_by("pk").first()
    counts = (Entry.objects.count(), LedgerTransaction.objects.count())

    assert admin_client.get(_url("ledger.entry", "delete", entry.pk)).status_code == 403
    txn = entry.transaction_id
    assert admin_client.get(_url("ledger.ledgertransaction", "delete", txn)).status_code == 403
    admin_client.post(
        _url("ledger.entry", "changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert (Entry.objects.count(), LedgerTransaction.objects.count()) == counts


def test_a_customer_cannot_be_deleted(admin_client, books):
    url = _url("customers.customer", "delete", books.customer.pk)

    assert admin_client.get(url).status_code == 403
    assert Customer.objects.filter(pk=books.customer.pk).exists()


def test_the_transaction_page_shows_its_entries(admin_client, books):
    txn = LedgerTransaction.objects.filter(invoice=books.invoice).first()
    response = admin_client.get(_url("ledger.ledgertransaction", "change", txn.pk))

    for entry in txn.entries.all():
        assert entry.account.code in response.content.decode()


def test_the_invoice_page_shows_its_lines_and_pdf_link(admin_client, books):
    response = admin_client.get(_url("invoicing.invoice", "change", books.invoice.pk))
    html = response.content.decode()

    assert "Hébergement" in html
    assert reverse("admin:invoicing_invoice_pdf", args=[books.invoice.pk]) in html


def test_the_invoice_pdf_is_served_to_staff(admin_client, books, media):
    response = admin_client.get(reverse("admin:invoicing_invoice_pdf", args=[books.invoice.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert Invoice.objects.get(pk=books.invoice.pk).pdf


def test_the_invoice_pdf_is_not_public(client, books, media):
    response = client.get(reverse("admin:invoicing_invoice_pdf", args=[books.invoice.pk]))

    assert response.status_code == 302  # to the login page
    assert not Invoice.objects.get(pk=books.invoice.pk).pdf
