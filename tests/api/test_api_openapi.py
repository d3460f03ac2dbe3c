# SPDX-License-Identifier: AGPL-3.0-or-later
"""The OpenAPI document describes every operation and the scope each needs; no docs page pulls
scripts from a CDN."""

import json

import pytest

from encaisse.api.models import Scope

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


SCOPES = {
    ("/api/v1/customers", "post"): "customers",
    ("/api/v1/customers/{number}/payments", "post"): "payments",
    ("/api/v1/customers/{number}/invoices", "post"): "invoices",
    ("/api/v1/charges", "post"): "charges",
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


def test_the_security_scheme_lists_every_scope(schema):
    description = schema["components"]["securitySchemes"]["ApiKeyAuth"]["description"]
    for scope in Scope:
        assert f"* `{scope.value}`: " in description
    assert "403 `forbidden_scope`" in description


def test_every_operation_says_which_scope_it_needs(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            scope = SCOPES.get((path, method), "read" if method == "get" else None)
            assert operation["x-encaisse-scope"] == scope, (path, method)
            assert f"**Scope:** `{scope}`" in operation["description"], (path, method)
            forbidden = operation["responses"]["403"]
            assert f"`{scope}` scope" in forbidden["description"], (path, method)
            assert forbidden["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOut"
            }


def test_the_scope_note_keeps_the_operations_own_description(schema):
    payments = schema["paths"]["/api/v1/customers/{number}/payments"]["post"]
    assert payments["description"].startswith("Record money received (201)")
    assert payments["description"].endswith("crediting a prepaid account: the most sensitive).")


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
