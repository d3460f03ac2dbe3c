# SPDX-License-Identifier: AGPL-3.0-or-later
"""The OpenAPI document describes every operation; no docs page pulls scripts from a CDN."""

import json

import pytest

PATHS = {
    "/api/v1/customers": {"get", "post"},
    "/api/v1/customers/{number}": {"get"},
    "/api/v1/customers/{number}/balance": {"get"},
    "/api/v1/customers/{number}/movements": {"get"},
    "/api/v1/customers/{number}/payments": {"post"},
    "/api/v1/customers/{number}/invoices": {"post"},
    "/api/v1/charges": {"post"},
    "/api/v1/invoices": {"get"},
    "/api/v1/invoices/{number}": {"get"},
    "/api/v1/invoices/{number}/pdf": {"get"},
}


@pytest.fixture
def schema(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_openapi_document_lists_every_operation(schema):
    assert schema["openapi"].startswith("3.")
    assert {path: set(ops) for path, ops in schema["paths"].items()} == PATHS


def test_every_operation_requires_the_bearer_key(schema):
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "bearer"
    for operations in schema["paths"].values():
        for operation in operations.values():
            assert operation["security"] == [{"ApiKeyAuth": []}]


def test_every_post_takes_an_idempotency_key(schema):
    for operations in schema["paths"].values():
        if "post" in operations:
            headers = {
                p["name"]: p for p in operations["post"]["parameters"] if p["in"] == "header"
            }
            assert headers["Idempotency-Key"]["required"] is True


def test_money_is_described_as_strings(schema):
    components = schema["components"]["schemas"]
    for name, field in [
        ("ChargeIn", "unit_price"),
        ("ChargeIn", "quantity"),
        ("TopUpIn", "amount"),
        ("ChargeOut", "amount"),
        ("BalanceOut", "available"),
        ("InvoiceOut", "amount_due"),
    ]:
        assert components[name]["properties"][field]["type"] == "string", (name, field)


def test_home_page_links_the_docs_and_the_openapi_document(client, db):
    home = client.get("/").content.decode()
    assert "/api/v1/docs" in home
    assert "/api/v1/openapi.json" in home
