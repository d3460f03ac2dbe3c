# SPDX-License-Identifier: AGPL-3.0-or-later
"""API test helpers: an API key and a client that sends it (``HTTP_AUTHORIZATION``).

``api_key`` / ``api`` hold every scope, so tests about something else are not about scopes;
``scoped_api("read")`` gives a client whose key holds only the scopes named.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from encaisse.core.actors import Actor

PREFIX = "/api/v1"
_keys = itertools.count(1)


class ApiClient:
    """The Django test client speaking JSON to /api/v1 with a bearer key."""

    def __init__(self, client: Client, raw_key: str | None) -> None:
        self.client = client
        self.raw_key = raw_key
        self.key: Any = None

    def _auth(self, extra: dict[str, Any]) -> dict[str, Any]:
        if self.raw_key is not None:
            extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.raw_key}")
        return extra

    def get(self, path: str, params: dict[str, Any] | None = None, **extra: Any) -> Any:
        return self.client.get(PREFIX + path, params or {}, **self._auth(extra))

    def post(self, path: str, body: Any = None, *, key: str | None = "auto", **extra: Any) -> Any:
        """POST JSON; ``key`` is the Idempotency-Key ("auto": a fresh one, None: no header)."""
        if key == "auto":
            key = f"test-key-{next(_keys)}"
        if key is not None:
            extra["HTTP_IDEMPOTENCY_KEY"] = key
        data = body if isinstance(body, str) else json.dumps(body if body is not None else {})
        return self.client.post(
            PREFIX + path, data, content_type="application/json", **self._auth(extra)
        )


def _make_key(*scopes: str, expires_at: dt.datetime | None = None, name: str = "platform"):
    from encaisse.api.keys import create_api_key

    key, raw = create_api_key(
        name=name,
        scopes=scopes,
        expires_at=expires_at,
        created_by="tests",
        actor=Actor.system("tests"),
    )
    key.raw = raw
    return key


@pytest.fixture
def api_key(db):
    return _make_key("all", name="hosting platform")


@pytest.fixture
def make_api_key(db) -> Callable[..., Any]:
    """``make_api_key("read", "charges", expires_at=...)``: a key (``.raw`` holds the secret)."""
    return _make_key


@pytest.fixture
def scoped_api(client, db) -> Callable[..., ApiClient]:
    """``scoped_api("read")``: a client whose key holds only these scopes (``.key`` is the key)."""

    def make(*scopes: str, expires_at: dt.datetime | None = None) -> ApiClient:
        key = _make_key(*scopes, expires_at=expires_at, name=f"key {'+'.join(scopes)}")
        scoped = ApiClient(client, key.raw)
        scoped.key = key
        return scoped

    return make


@pytest.fixture
def api(client, api_key) -> ApiClient:
    return ApiClient(client, api_key.raw)


@pytest.fixture
def anonymous(client, db) -> ApiClient:
    return ApiClient(client, None)


@pytest.fixture
def customer_body() -> dict[str, Any]:
    return {
        "name": "Atelier Numérique SARL",
        "email": "compta@atelier.example",
        "kind": "company",
        "address_line1": "3 rue des Lilas",
        "postal_code": "69003",
        "city": "Lyon",
        "siret": "73282932000074",
        "vat_number": "FR44732829320",
    }


@pytest.fixture
def charge_body():
    def make(customer, **overrides: Any) -> dict[str, Any]:
        body = {
            "customer": customer.number,
            "description": "Hébergement Pro",
            "quantity": "1",
            "unit_price": "9.90",
            "vat_rate": "20",
            "period_start": "2026-11-01",
            "period_end": "2026-11-30",
        }
        body.update(overrides)
        return body

    return make
