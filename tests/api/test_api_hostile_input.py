# SPDX-License-Identifier: AGPL-3.0-or-later
"""Hostile and careless input on the API (issue 12, findings 4, 7 and 9): never a 5xx, always the
JSON error shape, the same answer on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from concurrency import run_concurrently
from django.conf import settings
from django.test import Client

from encaisse.core.models import AuditLog
from encaisse.customers import services as customer_services
from encaisse.customers.models import Customer
from encaisse.invoicing.models import Charge

from .conftest import PREFIX, ApiClient

GUARD = "encaisse.api.errors.JsonErrorsMiddleware"
ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def _refused_field(response, field: str) -> dict:
    """The response is a 422 in the JSON shape whose ``errors`` name ``field``."""
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid_request"
    (error,) = [e for e in body["errors"] if e["loc"][-1] == field]
    return error


def _assert_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"code", "message"}
    assert body["message"]
    if code is not None:
        assert body["code"] == code
    return body


# --- Finding 4: control characters ---------------------------------------------------------------
CUSTOMER_FIELDS = [
    "name",
    "email",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "vat_number",
    "siret",
    "external_id",
]


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b", "\x7f", "\n"])
@pytest.mark.parametrize("field", CUSTOMER_FIELDS)
def test_a_control_character_in_a_customer_field_is_a_422_naming_it(
    api, customer_body, field, character
):
    body = {**customer_body, field: customer_body.get(field, "x") + character}

    error = _refused_field(api.post("/customers", body), field)

    assert error["type"] == "control_characters"
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("field", ["customer", "description", "external_id"])
def test_a_nul_byte_in_a_charge_field_is_a_422_naming_it(api, make_customer, charge_body, field):
    customer = make_customer()
    body = charge_body(customer)
    body[field] = body.get(field, "x") + "\x00"

    _refused_field(api.post("/charges", body), field)

    assert Charge.objects.count() == 0


@pytest.mark.parametrize("field", ["method", "reference", "reason"])
def test_a_nul_byte_in_a_payment_field_is_a_422_naming_it(api, make_customer, field):
    customer = make_customer()
    body = {"amount": "10.00", "method": "bank_transfer", "reference": "VIR-1", "reason": "r"}
    body[field] += "\x00"

    _refused_field(api.post(f"/customers/{customer.number}/payments", body), field)


def test_a_reason_may_span_lines(api, make_customer):
    customer = make_customer()
    body = {"amount": "10.00", "method": "bank_transfer", "reference": "VIR-1"}

    response = api.post(
        f"/customers/{customer.number}/payments", {**body, "reason": "Virement\r\nde mars"}
    )

    assert response.status_code == 201
    assert response.json()["reason"] == "Virement\r\nde mars"


def test_a_nul_byte_in_the_idempotency_key_is_a_422(api, make_customer, charge_body):
    response = api.post("/charges", charge_body(make_customer()), key="k\x00")

    _refused_field(response, "Idempotency-Key")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/customers/C1000014%00"),
        ("get", "/customers/C1%00/balance"),
        ("get", "/customers/C1%00/movements"),
        ("get", "/invoices/FA2026-000001%00"),
        ("get", "/invoices/FA%00/pdf"),
        ("post", "/customers/C1%00/invoices"),
        ("post", "/customers/C1%00/payments"),
        ("get", "/customers?search=%00"),
        ("get", "/invoices?customer=C1%1B"),
    ],
)
def test_a_control_character_in_a_path_or_query_is_a_422_not_a_500(api, method, path):
    body = {"amount": "1.00", "method": "card", "reference": "r"} if "payments" in path else {}
    response = getattr(api, method)(path, **({"body": body} if method == "post" else {}))

    body = _assert_shape(response, 422, "invalid_request")
    assert body["errors"][0]["type"] == "control_characters"


@pytest.mark.parametrize("field", ["name", "address_line1", "city"])
def test_a_blank_required_customer_field_is_refused(api, customer_body, field):
    error = _refused_field(api.post("/customers", {**customer_body, field: "   "}), field)

    assert error["type"] == "blank"


def test_a_blank_charge_description_is_refused(api, make_customer, charge_body):
    """EN 16931 BT-153: an invoice line needs a name."""
    response = api.post("/charges", charge_body(make_customer(), description=" \t "))

    assert response.status_code == 422
    assert Charge.objects.count() == 0


def test_what_is_stored_is_the_cleaned_value(api, customer_body):
    body = {**customer_body, "name": "  Atelier  ", "external_id": " plat-1 "}

    created = api.post("/customers", body).json()

    assert (created["name"], created["external_id"]) == ("Atelier", "plat-1")


# --- Finding 7: duplicate external id ------------------------------------------------------------
def test_a_duplicate_external_id_is_a_409(api, customer_body):
    first = api.post("/customers", {**customer_body, "external_id": "plat-42"}).json()

    response = api.post("/customers", {**customer_body, "external_id": "plat-42", "name": "B"})

    body = _assert_shape(response, 409, "customer_exists")
    assert first["number"] in body["message"]
    assert Customer.objects.count() == 1


def test_a_duplicate_external_id_that_wins_the_race_is_still_a_409(api, customer_body, monkeypatch):
    """The other request inserts between our check and our INSERT: the unique index refuses it
    (IntegrityError) and the answer is the same 409, on both engines."""
    api.post("/customers", {**customer_body, "external_id": "plat-7"})
    real_check = customer_services._refuse_taken_external_id
    calls = []

    def check_misses_the_first_time(external_id, **kwargs):
        calls.append(external_id)
        if len(calls) > 1:
            real_check(external_id, **kwargs)

    monkeypatch.setattr(customer_services, "_refuse_taken_external_id", check_misses_the_first_time)

    response = api.post("/customers", {**customer_body, "external_id": "plat-7", "name": "B"})

    _assert_shape(response, 409, "customer_exists")
    assert len(calls) == 2
    assert Customer.objects.count() == 1
    assert AuditLog.objects.filter(action="encaisse.customer.created").count() == 1


@pytest.mark.skipif(not ON_POSTGRESQL, reason="a real race needs PostgreSQL (one SQLite writer)")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_with_one_external_id_make_one_customer_and_409s(
    api_key, customer_body
):
    def create(n: int):
        def job():
            client = ApiClient(Client(), api_key.raw)
            body = {**customer_body, "external_id": "plat-race", "name": f"Racer {n}"}
            response = client.post("/customers", body, key=f"race-{n}")
            return response.status_code, response.json().get("code")

        return job

    outcomes = run_concurrently([create(n) for n in range(8)])

    assert [error for _, error in outcomes if error] == []
    assert (
        sorted(result for result, _ in outcomes) == [(201, None)] + [(409, "customer_exists")] * 7
    )
    assert Customer.objects.filter(external_id="plat-race").count() == 1


# --- Finding 9: body size, paging, periods, unknown paths, unexpected errors ---------------------
def test_a_body_over_the_limit_is_a_413(api, customer_body):
    big = {**customer_body, "name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}

    _assert_shape(api.post("/customers", big), 413, "too_large")
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("page", [str(10**20), "1000001", "0", "-1", "abc", "1.5"])
@pytest.mark.parametrize("path", ["/customers", "/invoices", "/customers/{number}/movements"])
def test_an_out_of_range_page_is_a_422(api, make_customer, path, page):
    customer = make_customer()

    response = api.get(path.format(number=customer.number), {"page": page})

    assert _refused_field(response, "page")


def test_the_last_page_allowed_is_simply_empty(api, make_customer):
    make_customer()

    response = api.get("/customers", {"page": "1000000"})

    assert response.status_code == 200
    assert response.json()["items"] == []


@pytest.mark.parametrize(
    ("start", "end"),
    [("0001-01-01", "9999-12-31"), ("1999-12-31", "2000-01-31"), ("2026-01-01", "2031-01-02")],
)
def test_an_implausible_service_period_is_a_422(api, make_customer, charge_body, start, end):
    body = charge_body(make_customer(), period_start=start, period_end=end)

    _assert_shape(api.post("/charges", body), 422, "implausible_period")
    assert Charge.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/nope"),
        ("get", "/api/v1/customers/"),
        ("get", "/api/v2/customers"),
        ("get", "/api/"),
        ("post", "/api/v1/nope"),
        ("get", "/api/v1/%00"),
    ],
)
def test_an_unknown_api_path_is_a_json_404(client, api_key, method, path):
    response = getattr(client, method)(path, HTTP_AUTHORIZATION=f"Bearer {api_key.raw}")

    _assert_shape(response, 404, "not_found")


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_is_a_logged_json_500_without_traceback(
    api, monkeypatch, settings, caplog, debug
):
    from encaisse.api import selectors

    settings.DEBUG = debug

    def broken(search):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "search_customers", broken)

    with caplog.at_level(logging.ERROR, logger="encaisse.api"):
        response = api.get("/customers")

    body = _assert_shape(response, 500, "server_error")
    assert "secret" not in json.dumps(body) and "Traceback" not in response.content.decode()
    assert any(
        record.exc_info and "secret internals" in str(record.exc_info[1])
        for record in caplog.records
    )


# --- Errors made outside ninja: the JSON-shape middleware ----------------------------------------
def test_the_json_error_middleware_is_installed():
    assert GUARD in settings.MIDDLEWARE


@pytest.fixture
def shaped(settings):
    """The middleware in place even before settings.py lists it (it must come first)."""
    if GUARD not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [GUARD, *settings.MIDDLEWARE]


@pytest.mark.usefixtures("shaped")
def test_a_wrong_method_is_a_json_405(client, api_key):
    response = client.delete(f"{PREFIX}/customers", HTTP_AUTHORIZATION=f"Bearer {api_key.raw}")

    _assert_shape(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


@pytest.mark.usefixtures("shaped")
def test_an_error_page_outside_the_api_is_left_alone(client):
    response = client.get("/panel/no-such-page/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_today_is_inside_the_plausible_period(api, make_customer, charge_body):
    today = dt.date.today().isoformat()

    response = api.post(
        "/charges", charge_body(make_customer(), period_start=today, period_end=today)
    )

    assert response.status_code == 201
