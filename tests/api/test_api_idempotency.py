# SPDX-License-Identifier: AGPL-3.0-or-later
"""Idempotency-Key: one execution per key, replays identical, reuse with another body refused."""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory
from django.utils import timezone

from encaisse.api import idempotency
from encaisse.api.keys import create_api_key
from encaisse.api.models import IdempotencyRecord, IdempotencyStatus
from encaisse.core.actors import Actor
from encaisse.customers.models import Customer
from encaisse.invoicing.models import Charge
from encaisse.ledger.models import LedgerTransaction, TransactionKind
from encaisse.ledger.selectors import customer_balance

from .conftest import ApiClient


def test_the_same_key_and_body_replays_the_first_response(api, make_customer, charge_body):
    body = charge_body(make_customer())

    first = api.post("/charges", body, key="k-1")
    again = api.post("/charges", body, key="k-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Charge.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.status, record.response_status) == (IdempotencyStatus.COMPLETED, 201)


def test_formatting_and_key_order_do_not_make_another_request(api, make_customer, charge_body):
    body = charge_body(make_customer())
    first = api.post("/charges", body, key="k-1")

    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    again = api.post("/charges", reordered, key="k-1")

    assert again.content == first.content
    assert Charge.objects.count() == 1


def test_a_top_up_retried_with_its_key_is_credited_once(api, make_customer):
    customer = make_customer()
    body = {"amount": "30.00", "method": "card", "reference": "pi_123"}

    first = api.post(f"/customers/{customer.number}/payments", body, key="pay-1")
    again = api.post(f"/customers/{customer.number}/payments", body, key="pay-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert LedgerTransaction.objects.filter(kind=TransactionKind.TOP_UP).count() == 1
    assert str(customer_balance(customer).prepaid) == "30.00"


def test_a_customer_retried_with_its_key_is_created_once(api, customer_body):
    first = api.post("/customers", customer_body, key="cust-1")
    again = api.post("/customers", customer_body, key="cust-1")

    assert again.content == first.content
    assert Customer.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(api, make_customer, charge_body):
    customer = make_customer()
    api.post("/charges", charge_body(customer), key="k-1")

    other = api.post("/charges", charge_body(customer, unit_price="19.90"), key="k-1")
    elsewhere = api.post(f"/customers/{customer.number}/invoices", key="k-1")

    for response in (other, elsewhere):
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"
    assert Charge.objects.count() == 1
    assert not customer.invoices.exists()


def test_a_business_error_is_stored_and_replayed(api, make_customer, charge_body):
    body = charge_body(make_customer(), vat_rate="19")

    first = api.post("/charges", body, key="k-1")
    again = api.post("/charges", body, key="k-1")

    assert first.status_code == again.status_code == 422
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.get().response_status == 422
    assert Charge.objects.count() == 0


def test_a_request_refused_by_the_schema_does_not_use_up_the_key(api, make_customer, charge_body):
    customer = make_customer()

    refused = api.post("/charges", charge_body(customer, unit_price=9.9), key="k-1")
    accepted = api.post("/charges", charge_body(customer), key="k-1")

    assert (refused.status_code, accepted.status_code) == (422, 201)
    assert Charge.objects.count() == 1


def test_a_key_still_in_progress_gets_a_409(api, api_key, make_customer, charge_body):
    body = charge_body(make_customer())
    twin = RequestFactory().post("/api/v1/charges", body, content_type="application/json")
    IdempotencyRecord.objects.create(
        api_key=api_key, key="k-1", request_hash=idempotency.request_hash(twin)
    )

    response = api.post("/charges", body, key="k-1")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_in_progress"
    assert Charge.objects.count() == 0


def test_keys_belong_to_one_api_key(api, client, make_customer, charge_body):
    customer = make_customer()
    _other, raw = create_api_key(
        name="staging", scopes=["charges"], created_by="tests", actor=Actor.system("t")
    )

    first = api.post("/charges", charge_body(customer), key="shared")
    second = ApiClient(client, raw).post(
        "/charges", charge_body(customer, unit_price="1"), key="shared"
    )

    assert (first.status_code, second.status_code) == (201, 201)
    assert Charge.objects.count() == 2


def test_a_crash_during_the_work_leaves_neither_work_nor_record(
    api, make_customer, charge_body, monkeypatch
):
    from encaisse.api import charges

    real_add_charge = charges.add_charge

    def add_then_crash(*args, **kwargs):
        real_add_charge(*args, **kwargs)
        raise RuntimeError("power cut")

    monkeypatch.setattr(charges, "add_charge", add_then_crash)
    body = charge_body(make_customer())

    crashed = api.post("/charges", body, key="k-1")

    assert (crashed.status_code, crashed.json()["code"]) == (500, "server_error")

    assert Charge.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0
    monkeypatch.setattr(charges, "add_charge", real_add_charge)
    assert api.post("/charges", body, key="k-1").status_code == 201  # the retry simply runs


def test_records_are_kept_a_day_then_purged(api, make_customer, charge_body):
    customer = make_customer()
    api.post("/charges", charge_body(customer), key="old")
    api.post("/charges", charge_body(customer, unit_price="1"), key="new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - dt.timedelta(hours=25)
    )

    with pytest.raises(CommandError):
        call_command("apikey", "purge-idempotency", "--older-than-hours", "1")
    call_command("apikey", "purge-idempotency", "--older-than-hours", "24")

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_a_concurrent_twin_gets_a_409_at_once_on_postgresql(
    api, api_key, make_customer, charge_body
):
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has a single writer: a twin waits for the first, then replays")
    body = charge_body(make_customer())
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:  # another session, mid-request with the same key
            cursor.execute("SELECT pg_advisory_lock(%s)", [idempotency.lock_id(api_key, "k-1")])
        response = api.post("/charges", body, key="k-1")
        assert response.status_code == 409
        assert response.json()["code"] == "idempotency_in_progress"
        assert Charge.objects.count() == 0
    finally:
        other.close()

    assert api.post("/charges", body, key="k-1").status_code == 201  # retry once it is done
