# SPDX-License-Identifier: AGPL-3.0-or-later
"""The database versions each customer's billing identity; invoices keep the version they print."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from encaisse.customers.models import IDENTITY_FIELDS, BillingIdentity, Customer
from encaisse.customers.services import CustomerData, update_customer
from encaisse.invoicing.credit_notes import issue_credit_note
from encaisse.invoicing.models import Invoice

pytestmark = pytest.mark.django_db


def _data(customer: Customer, **changes: str) -> CustomerData:
    names = {f.name for f in dataclasses.fields(CustomerData)}
    return CustomerData(**{**{n: getattr(customer, n) for n in names}, **changes})


def _latest(customer: Customer) -> BillingIdentity:
    return customer.identities.order_by("-id").first()


def test_a_new_customer_has_its_first_version(make_customer):
    customer = make_customer(name="Atelier Numérique", siret="73282932000074")

    (version,) = customer.identities.all()
    assert version.as_dict() == {name: getattr(customer, name) for name in IDENTITY_FIELDS}
    assert version.created_at is not None


def test_a_printed_field_changed_writes_a_version_and_other_fields_do_not(make_customer, actor):
    customer = make_customer()
    first = _latest(customer)

    update_customer(customer, _data(customer, email="billing@example.org"), actor=actor)
    assert customer.identities.count() == 1

    update_customer(customer, _data(customer, city="Lyon", postal_code="69001"), actor=actor)
    second = _latest(customer)
    assert second.pk > first.pk
    assert (second.city, second.postal_code) == ("Lyon", "69001")
    assert BillingIdentity.objects.get(pk=first.pk).city == "Paris"


def test_raw_sql_cannot_skip_the_version(make_customer):
    """Whoever changes a printed field — a shell, a data migration — writes a version too."""
    customer = make_customer()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_customer SET name = 'Renamed SAS' WHERE id = %s", [customer.pk]
        )

    assert _latest(customer).name == "Renamed SAS"
    assert customer.identities.count() == 2


@pytest.mark.parametrize("field", IDENTITY_FIELDS)
def test_every_printed_field_is_versioned(make_customer, field):
    """The triggers cover the model's list: a field added to it needs a migration that installs
    them again (``customers.identity.install_identity_triggers``)."""
    customer = make_customer(kind="individual")
    value = {"number": "C0000001", "kind": "company", "country": "BE"}.get(field, "Changed")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE customers_customer SET {field} = %s WHERE id = %s", [value, customer.pk]
        )

    assert customer.identities.count() == 2
    assert getattr(_latest(customer), field) == value


def test_versions_cannot_be_changed_nor_deleted(make_customer):
    version = _latest(make_customer())
    for sql in (
        "UPDATE customers_billingidentity SET name = 'Forged' WHERE id = %s",
        "DELETE FROM customers_billingidentity WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [version.pk])
    assert BillingIdentity.objects.get(pk=version.pk).name == version.name


def test_an_invoice_keeps_the_buyer_it_was_issued_to(make_customer, charge, bill, actor):
    customer = make_customer(name="Before SARL")
    charge(customer, "10.00")
    bill()
    before = Invoice.objects.get(customer=customer)

    update_customer(customer, _data(customer, name="After SAS"), actor=actor)
    charge(customer, "5.00", period=(dt.date(2026, 12, 1), dt.date(2026, 12, 31)))
    bill("2026-12")
    after = Invoice.objects.filter(customer=customer).exclude(pk=before.pk).get()
    note = issue_credit_note(before, actor=actor, reason="Duplicate")

    assert Invoice.objects.get(pk=before.pk).buyer.name == "Before SARL"
    assert after.buyer.name == "After SAS"
    assert note.buyer_id == before.buyer_id


def test_single_and_multiple_vat_rates_are_stored_apart(make_customer, charge, bill):
    single, mixed = make_customer(), make_customer()
    charge(single, "10.00")
    charge(mixed, "10.00")
    charge(mixed, "4.00", vat_rate="5.5")
    bill()

    one = Invoice.objects.get(customer=single)
    two = Invoice.objects.get(customer=mixed)
    assert (one.vat_rate, one.vat_breakdown_rows) == (Decimal("20.00"), None)
    assert one.vat_breakdown == [{"rate": "20.00", "base": "10.00", "vat": "2.00"}]
    assert two.vat_rate is None
    assert two.vat_breakdown == [
        {"rate": "5.50", "base": "4.00", "vat": "0.22"},
        {"rate": "20.00", "base": "10.00", "vat": "2.00"},
    ]
