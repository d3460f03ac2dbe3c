# SPDX-License-Identifier: AGPL-3.0-or-later
"""Staff actions of the back-office go through the services, and refuse bad input cleanly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from encaisse.core.models import AuditLog
from encaisse.customers.models import Customer
from encaisse.invoicing.models import BillingRun, Charge, Invoice, Plan
from encaisse.ledger.models import LedgerTransaction
from encaisse.ledger.selectors import customer_balance


def _record_url(customer) -> str:
    return reverse("admin:customers_customer_record_payment", args=[customer.pk])


def _payment(**overrides):
    data = {
        "amount": "30.00",
        "method": "bank_transfer",
        "reference": "VIR-2026-1187",
        "reason": "Transfer seen on the bank statement of 25 November",
    }
    data.update(overrides)
    return data


def _snapshot(customer):
    return (customer_balance(customer), LedgerTransaction.objects.count(), AuditLog.objects.count())


def test_record_payment_credits_the_balance_and_logs_the_reason(admin_client, admin_user, books):
    customer = books.customer
    assert customer_balance(customer).due == Decimal("12.88")

    response = admin_client.post(_record_url(customer), _payment())

    assert response.status_code == 302
    balance = customer_balance(customer)
    assert balance.due == Decimal("0.00")  # the open invoice was paid from the new balance
    assert balance.prepaid == Decimal("17.12")
    txn = LedgerTransaction.objects.get(idempotency_key="topup:bank_transfer:VIR-2026-1187")
    assert txn.actor_label == admin_user.username
    assert txn.reason == "Transfer seen on the bank statement of 25 November"
    log = AuditLog.objects.get(action="encaisse.payment.recorded_by_staff")
    assert (log.actor_kind, log.actor_label) == ("staff", admin_user.username)
    assert log.reason == "Transfer seen on the bank statement of 25 November"
    assert log.payload["amount"] == "30.00"
    assert Invoice.objects.get(pk=books.invoice.pk).status == "paid"


def test_record_payment_accepts_a_french_decimal_comma(admin_client, books):
    admin_client.post(_record_url(books.customer), _payment(amount="1 000,50"))

    assert customer_balance(books.customer).prepaid == Decimal("987.62")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reason", "", "A reason is required"),
        ("reason", "   ", "A reason is required"),
        ("amount", "-10.00", "The amount must be greater than zero"),
        ("amount", "0", "The amount must be greater than zero"),
        ("amount", "dix euros", "is not an amount"),
        ("amount", "10.005", "is not an amount"),
        ("amount", "1e3", "is not an amount"),
        ("method", "cheque", "“cheque” is not an accepted payment method"),
        ("method", "chèque", "is not an accepted payment method"),
        ("reference", "", "A reference is required"),
    ],
)
def test_record_payment_refuses_bad_input_and_changes_nothing(
    admin_client, books, field, value, message
):
    before = _snapshot(books.customer)

    response = admin_client.post(
        _record_url(books.customer), _payment(**{field: value}), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert _snapshot(books.customer) == before


def test_record_payment_refuses_an_amount_above_the_service_limit(admin_client, books):
    before = _snapshot(books.customer)

    response = admin_client.post(
        _record_url(books.customer), _payment(amount="2000000"), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    assert "at most" in response.content.decode()
    assert _snapshot(books.customer) == before


def test_record_payment_form_says_cheques_are_refused(admin_client, books):
    html = admin_client.get(_record_url(books.customer), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Cheques are not accepted" in html
    assert 'value="cheque"' not in html
    assert 'value="mandat_administratif"' in html


def test_the_same_reference_is_credited_once(admin_client, books):
    admin_client.post(_record_url(books.customer), _payment())
    before = _snapshot(books.customer)

    response = admin_client.post(
        _record_url(books.customer), _payment(), follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert "already recorded" in response.content.decode()
    assert _snapshot(books.customer) == before


def test_staff_without_the_right_cannot_record_payments(
    client, django_user_model, books, staff_login
):
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_customer"))
    staff_login(client, viewer)

    assert client.get(reverse("admin:customers_customer_changelist")).status_code == 200
    assert client.post(_record_url(books.customer), _payment()).status_code == 403
    assert customer_balance(books.customer).prepaid == Decimal("0.00")


CUSTOMER_FORM = {
    "name": "Boulangerie Martin SARL",
    "kind": "company",
    "email": "compta@example.org",
    "language": "fr",
    "address_line1": "3 place du Marché",
    "address_line2": "",
    "postal_code": "69001",
    "city": "Lyon",
    "country": "FR",
    "siret": "73282932000074",
    "vat_number": "FR44732829320",
    "external_id": "",
    "overdraft": "50,00",
}


def test_a_customer_created_in_the_admin_goes_through_the_service(admin_client, admin_user):
    response = admin_client.post(reverse("admin:customers_customer_add"), CUSTOMER_FORM)

    assert response.status_code == 302
    customer = Customer.objects.get(name="Boulangerie Martin SARL")
    assert customer.number.startswith("C")
    assert customer_balance(customer).floor == Decimal("-50.00")
    log = AuditLog.objects.get(action="encaisse.customer.created", object_id=str(customer.pk))
    assert log.actor_label == admin_user.username


def test_an_invalid_siret_is_shown_on_the_form(admin_client):
    response = admin_client.post(
        reverse("admin:customers_customer_add"),
        {**CUSTOMER_FORM, "siret": "73282932000075", "overdraft": "50.00"},  # English format
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "is not a valid SIRET number" in response.content.decode()
    assert not Customer.objects.exists()


def test_a_customer_edited_in_the_admin_goes_through_the_service(admin_client, books):
    customer = books.customer
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    form = {**CUSTOMER_FORM, "name": "Atelier Numérique SAS"}
    form.pop("overdraft")

    response = admin_client.post(url, form)

    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).name == "Atelier Numérique SAS"
    log = AuditLog.objects.get(action="encaisse.customer.updated", object_id=str(customer.pk))
    assert "name" in log.payload["fields"]
    # The issued invoice keeps the buyer as it was.
    assert Invoice.objects.get(pk=books.invoice.pk).buyer.name == "Atelier Numérique"


def test_the_customer_list_costs_the_same_queries_for_3_or_30_customers(
    admin_client, make_customer, django_assert_num_queries
):
    url = reverse("admin:customers_customer_changelist")
    counts = []
    for wanted in (3, 30):
        while Customer.objects.count() < wanted:
            make_customer()
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_the_customer_list_shows_balance_and_amount_due(admin_client, books):
    html = admin_client.get(reverse("admin:customers_customer_changelist")).content.decode()

    assert "12,88" in html  # amount due, French admin


def test_customers_are_found_by_number_typed_with_spaces(admin_client, books, make_customer):
    make_customer()
    number = books.customer.number
    spaced = f"{number[:4]} {number[4:]}".lower()

    response = admin_client.get(reverse("admin:customers_customer_changelist"), {"q": spaced})

    assert list(response.context["cl"].result_list) == [books.customer]


def test_issue_invoice_now_action(admin_client, admin_user, books, charge):
    extra = charge(books.customer, "3.00", description="Extra IP")

    response = admin_client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "issue_invoice_now", "_selected_action": [books.customer.pk]},
        follow=True,
    )

    assert response.status_code == 200
    extra.refresh_from_db()
    assert extra.invoice is not None
    assert extra.invoice.number in response.content.decode()
    assert extra.actor_label == "tests"
    assert extra.invoice.ledger_transactions.first().actor_label == admin_user.username


def test_issue_invoice_now_button_with_nothing_to_invoice(admin_client, books):
    url = reverse("admin:customers_customer_issue_invoice", args=[books.customer.pk])
    invoices = Invoice.objects.count()

    response = admin_client.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")

    assert "nothing to invoice" in response.content.decode()
    assert Invoice.objects.count() == invoices
    assert admin_client.get(url).status_code == 405


def test_start_billing_run_queues_the_run_and_logs_who_asked(
    admin_client, admin_user, make_customer, charge, django_capture_on_commit_callbacks
):
    customer = make_customer()
    charge(customer)  # November 2026
    url = reverse("admin:invoicing_billingrun_start")

    assert admin_client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"period": "2026-11"})

    assert response.status_code == 302
    run = BillingRun.objects.get()
    assert run.status == "completed"
    assert run.actor_label == "billing-run"
    assert Invoice.objects.filter(billing_run=run, customer=customer).exists()
    log = AuditLog.objects.get(action="encaisse.billing_run.requested")
    assert (log.actor_label, log.payload) == (admin_user.username, {"period": "2026-11"})


@pytest.mark.parametrize("period", ["2026-13", "11/2026", "", "2099-01"])
def test_start_billing_run_refuses_a_bad_period(admin_client, period):
    response = admin_client.post(reverse("admin:invoicing_billingrun_start"), {"period": period})

    assert response.status_code == 200
    assert not BillingRun.objects.exists()
    assert not AuditLog.objects.filter(action="encaisse.billing_run.requested").exists()


def test_the_billing_run_list_offers_the_start_button(admin_client):
    html = admin_client.get(reverse("admin:invoicing_billingrun_changelist")).content.decode()

    assert reverse("admin:invoicing_billingrun_start") in html


def test_a_charge_added_in_the_admin_goes_through_the_service(admin_client, admin_user, books):
    response = admin_client.post(
        reverse("admin:invoicing_charge_add"),
        {
            "customer": books.customer.pk,
            "description": "Stockage",
            "quantity": "350",
            "unit_price": "0,0125",
            "vat_rate": "20.00",
            "period_start": "01/11/2026",
            "period_end": "30/11/2026",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    added = Charge.objects.get(description="Stockage")
    assert added.amount == Decimal("4.38")
    assert added.actor_label == admin_user.username


def test_a_plan_price_is_edited_as_a_decimal(admin_client, books):
    plan = Plan.objects.get(code="pro")
    url = reverse("admin:invoicing_plan_change", args=[plan.pk])
    assert 'value="20.00" selected' in admin_client.get(url).content.decode()

    response = admin_client.post(
        url,
        {
            "code": "pro",
            "name": "Pro",
            "unit_price": "15,90",
            "vat_rate": "20.00",
            "interval": "month",
            "active": "on",
        },
    )

    assert response.status_code == 302
    assert Plan.objects.get(pk=plan.pk).unit_price == Decimal("15.90")
