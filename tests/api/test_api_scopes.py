# SPDX-License-Identifier: AGPL-3.0-or-later
"""Scoped API keys: a key does only what its scopes allow, expires, and records its last use."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from encaisse.api.auth import ApiKeyAuth, ScopeUndeclared, operations, scopes_of
from encaisse.api.keys import LAST_USE_RESOLUTION
from encaisse.api.models import ApiKey, IdempotencyRecord, Scope
from encaisse.api.v1 import api as api_v1
from encaisse.invoicing.models import Charge
from encaisse.ledger.models import Entry, LedgerTransaction
from encaisse.ledger.selectors import customer_balance

upgrade = import_module("encaisse.api.migrations.0002_api_key_scopes_expiry_last_use")


def _pay(client, customer, amount="1000000.00"):
    body = {"amount": amount, "method": "bank_transfer", "reference": "VIR-42"}
    return client.post(f"/customers/{customer.number}/payments", body)


def _assert_forbidden(response, scope: str) -> None:
    assert response.status_code == 403
    body = response.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == "forbidden_scope"
    assert scope in body["message"]


def _ledger_rows() -> tuple[int, int]:
    return LedgerTransaction.objects.count(), Entry.objects.count()


# --- enforcement ------------------------------------------------------------------------------


def test_a_read_only_key_reads_but_cannot_charge_or_credit(
    scoped_api, make_customer, charge_body, top_up
):
    customer = make_customer()
    top_up(customer, "5.00")
    reader = scoped_api("read")
    before = _ledger_rows()

    assert reader.get(f"/customers/{customer.number}/balance").status_code == 200
    with translation.override("en"):
        charged = reader.post("/charges", charge_body(customer))
        credited = _pay(reader, customer)

    _assert_forbidden(charged, "charges")
    _assert_forbidden(credited, "payments")
    # The request's language (French by default), not the test's: the scope's translated label.
    assert "(enregistrer les paiements reçus)" in credited.json()["message"]
    assert not Charge.objects.exists()
    assert _ledger_rows() == before
    assert str(customer_balance(customer).prepaid) == "5.00"


def test_a_charges_key_creates_charges_but_cannot_record_a_payment_nor_read(
    scoped_api, make_customer, charge_body
):
    customer = make_customer()
    billing = scoped_api("charges")
    before = _ledger_rows()

    assert billing.post("/charges", charge_body(customer)).status_code == 201
    _assert_forbidden(_pay(billing, customer), "payments")
    _assert_forbidden(billing.get(f"/customers/{customer.number}"), "read")
    _assert_forbidden(billing.post(f"/customers/{customer.number}/invoices"), "invoices")
    assert _ledger_rows() == before
    assert str(customer_balance(customer).prepaid) == "0.00"


def test_the_payments_scope_records_money_received(scoped_api, make_customer):
    customer = make_customer()

    assert _pay(scoped_api("payments"), customer, amount="25.00").status_code == 201

    assert str(customer_balance(customer).prepaid) == "25.00"


def test_the_refusal_comes_before_the_idempotency_key_is_claimed(scoped_api, make_customer):
    customer = make_customer()
    reader = scoped_api("read")
    body = {"amount": "10.00", "method": "bank_transfer", "reference": "VIR-7"}
    path = f"/customers/{customer.number}/payments"

    assert reader.post(path, body, key="same").status_code == 403
    assert reader.post(path, body, key="same").status_code == 403
    assert not IdempotencyRecord.objects.exists()
    assert str(customer_balance(customer).prepaid) == "0.00"


def test_an_expired_key_gets_the_same_401_as_an_unknown_key(make_api_key, anonymous, client):
    key = make_api_key("all", expires_at=timezone.now() + dt.timedelta(days=1))
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    unknown = "enc_00000000_" + "x" * 43

    expired = client.get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {key.raw}")
    stranger = client.get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {unknown}")

    assert expired.status_code == stranger.status_code == 401
    assert expired.json() == stranger.json()
    assert expired["WWW-Authenticate"] == stranger["WWW-Authenticate"]
    assert ApiKey.objects.get(pk=key.pk).last_used_at is None


def test_a_key_works_until_its_expiry(make_api_key, client):
    key = make_api_key("read", expires_at=timezone.now() + dt.timedelta(minutes=5))

    response = client.get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {key.raw}")

    assert response.status_code == 200


def test_an_operation_without_a_declared_scope_is_refused_to_every_key(rf, make_api_key):
    key = make_api_key("all")
    request = rf.get("/api/v1/anything", HTTP_AUTHORIZATION=f"Bearer {key.raw}")

    with pytest.raises(ScopeUndeclared):
        ApiKeyAuth(None)(request)
    assert ApiKeyAuth(Scope.READ)(request) == key


# --- by construction --------------------------------------------------------------------------


def test_every_operation_declares_exactly_one_scope():
    """A new operation without ``auth=ApiKeyAuth(Scope.…)`` (or with two) fails here."""
    declared = {
        (method, operation.path): scopes_of(operation)
        for operation in operations(api_v1)
        for method in operation.methods
    }

    assert len(declared) >= 11
    for (method, path), scopes in declared.items():
        assert len(scopes) == 1 and scopes[0] is not None, (method, path, scopes)
        assert (scopes[0] == Scope.READ) == (method == "GET"), (method, path, scopes)
    assert {scopes[0] for scopes in declared.values()} == set(Scope)


def test_money_received_needs_the_payments_scope_and_nothing_else_grants_it():
    payments = [
        (method, operation.path)
        for operation in operations(api_v1)
        for method in operation.methods
        if scopes_of(operation) == [Scope.PAYMENTS]
    ]

    assert payments == [("POST", "/customers/{number}/payments")]


# --- last use ---------------------------------------------------------------------------------


def _updates_of_api_keys(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].upper().startswith("UPDATE") and "api_apikey" in q["sql"]
    ]


def test_last_use_is_recorded_at_most_once_a_minute(scoped_api):
    reader = scoped_api("read")
    assert reader.key.last_used_at is None

    assert reader.get("/customers").status_code == 200
    first = ApiKey.objects.get(pk=reader.key.pk).last_used_at
    assert first is not None and timezone.now() - first < dt.timedelta(seconds=5)

    with CaptureQueriesContext(connection) as queries:
        assert reader.get("/customers").status_code == 200
    assert _updates_of_api_keys(queries) == []
    assert ApiKey.objects.get(pk=reader.key.pk).last_used_at == first

    earlier = first - LAST_USE_RESOLUTION - dt.timedelta(seconds=1)
    ApiKey.objects.filter(pk=reader.key.pk).update(last_used_at=earlier)
    with CaptureQueriesContext(connection) as queries:
        assert reader.get("/customers").status_code == 200
    assert len(_updates_of_api_keys(queries)) == 1
    assert ApiKey.objects.get(pk=reader.key.pk).last_used_at > first


def test_a_refused_scope_still_counts_as_a_use_of_the_key(scoped_api, make_customer):
    """Staff deciding whether a key is dormant must see it is being tried."""
    reader = scoped_api("read")

    assert _pay(reader, make_customer()).status_code == 403

    assert ApiKey.objects.get(pk=reader.key.pk).last_used_at is not None


# --- upgrade ----------------------------------------------------------------------------------


def test_keys_made_before_scopes_keep_every_scope_after_the_upgrade(db, client):
    from encaisse.api.keys import hash_key

    raw = "enc_0a1b2c3d_" + "k" * 43
    ApiKey.objects.create(name="old platform", prefix="0a1b2c3d", key_hash=hash_key(raw))

    upgrade.grant_every_scope_to_existing_keys(apps, None)

    assert ApiKey.objects.get().scopes == sorted(Scope.values) == upgrade.SCOPES_AT_UPGRADE
    response = client.get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200


def test_a_key_stored_without_scopes_can_do_nothing(db, client):
    from encaisse.api.keys import hash_key

    raw = "enc_9a8b7c6d_" + "k" * 43
    ApiKey.objects.create(name="no scope", prefix="9a8b7c6d", key_hash=hash_key(raw))

    response = client.get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {raw}")

    _assert_forbidden(response, "read")
