# SPDX-License-Identifier: AGPL-3.0-or-later
"""Schemathesis fuzzes every operation of the OpenAPI document (issue 12, acceptance line 2).

Each operation of ``/api/v1/openapi.json`` is one test item, run in-process through the WSGI
application with generated **valid and invalid** input (``mode = "all"``: headers, paths, queries
and bodies), authenticated with a key holding every scope, against a database that already holds
customers, charges, a top-up and issued invoices. Generated customer and invoice numbers (path,
query, charge body) are now and then replaced by existing ones, and half of those valid bodies get
the few values the services require (a VAT rate, a period, a payment method, a postal code), so
that the operations reach the services and move money, not only answer 404 or 422. Every answer
must:

- not be a server error (``not_a_server_error``);
- use a documented status code and content type, and match the documented schema
  (``status_code_conformance``, ``content_type_conformance``, ``response_schema_conformance``);
- refuse invalid input with a 4xx (``negative_data_rejection``), a missing required header too
  (``missing_required_header``), and a wrong method with a 405 (``unsupported_method``);
- not ignore its authentication (``ignored_auth``: the same request without the key is a 401);
- when it is an error, be the API's JSON error shape (:func:`json_error_shape`).

After every request the ledger check must still be clean, so an input that corrupts the books is
reported (and shrunk) like a 500. ``positive_data_acceptance`` is left out on purpose: the schema
cannot say everything the services refuse with a 4xx (a VAT rate the provider does not invoice, a
SIRET checksum, an implausible service period), and those refusals are correct.

The run is bounded (``max-examples``) and deterministic (``deterministic = true`` is Hypothesis's
``derandomize``), so CI replays the same examples on SQLite and PostgreSQL. The coverage phase
is off: it makes every boundary case of every schema whatever ``max-examples`` says, so it would
not be bounded; the examples and fuzzing phases run.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

from encaisse.core import text

CONFIG = SchemathesisConfig.from_str(
    """
[generation]
mode = "all"
max-examples = 40
deterministic = true
# A NUL byte cannot even be compared by PostgreSQL: the API refuses it with a 422 on both engines,
# and these examples check that it does.
allow-x00 = true
# No made-up query parameters: like most HTTP APIs this one ignores a query parameter it does not
# know (caches and proxies add some), whereas unknown body fields are refused (schemas.py).
allow-extra-parameters = false
# The key is the fixture's (sent by the test): a generated Authorization header would replace it,
# and a negative one would turn into a valid request once the key is added. ``ignored_auth``
# checks the requests without a key or with a wrong one.
with-security-parameters = false

[phases]
coverage.enabled = false

[checks]
enabled = false
not_a_server_error.enabled = true
status_code_conformance.enabled = true
content_type_conformance.enabled = true
response_schema_conformance.enabled = true
negative_data_rejection.enabled = true
missing_required_header.enabled = true
unsupported_method.enabled = true
ignored_auth.enabled = true
"""
)
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", get_wsgi_application(), config=CONFIG
)
IDEMPOTENCY_KEY = "Idempotency-Key"
_idempotency_keys = itertools.count(1)


def json_error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every error answer is ``{"code": str, "message": str, ...}`` in JSON (errors.py)."""
    if response.status_code < 400:
        return None
    (content_type,) = response.headers.get("content-type", [""])  # lowercase names, list values
    assert content_type.startswith("application/json"), (
        f"{response.status_code} answered as {content_type!r}, not JSON"
    )
    body = json.loads(response.content)
    assert isinstance(body, dict), f"error body is not an object: {body!r}"
    assert isinstance(body.get("code"), str), f"error without a string code: {body!r}"
    assert isinstance(body.get("message"), str), f"error without a string message: {body!r}"
    assert body["message"].strip(), f"error with an empty message: {body!r}"
    return True


#: Stands for "the n-th existing object" in a drawn number; the test swaps in the real one.
#: Drawing happens at collection time too (the examples phase), where the database is closed, so
#: the hooks only mark which number to use and :func:`_use_existing_numbers` reads the database.
EXISTING = "existing-object-"
_EXISTING_SLOTS = st.integers(min_value=0, max_value=9)


def _maybe_existing(values: dict[str, Any] | None, name: str) -> Any:
    """``values`` as drawn, or with ``name`` replaced by the marker of an existing object.

    Only a well-formed drawn value is replaced, so an invalid one (a negative example aimed at
    this parameter) stays invalid.
    """
    value = (values or {}).get(name)
    if not isinstance(value, str) or re.fullmatch(text.SINGLE_LINE_PATTERN, value) is None:
        return st.just(values)
    marked = _EXISTING_SLOTS.map(lambda slot: {**(values or {}), name: f"{EXISTING}{slot}"})
    return st.one_of(st.just(values), marked)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Half of the examples address an existing customer or invoice instead of a random one."""
    return _maybe_existing(path_parameters, "number")


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> Any:
    """The invoice list is filtered by an existing customer now and then."""
    return _maybe_existing(query, "customer")


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    """A charge is now and then for an existing customer."""
    return _maybe_existing(body, "customer") if isinstance(body, dict) else st.just(body)


def _existing_numbers(model: Any) -> list[str]:
    return list(model.objects.order_by("pk").values_list("number", flat=True))


def _use_existing_numbers(case: Any) -> list[int]:
    """Swap each marker for the number of an object in the database (customer or invoice).

    Returns the slots of the markers swapped.
    """
    from encaisse.customers.models import Customer
    from encaisse.invoicing.models import Invoice

    targets = [
        (
            case.path_parameters,
            "number",
            Invoice if "/invoices/{number}" in case.path else Customer,
        ),
        (case.query, "customer", Customer),
        (case.body if isinstance(case.body, dict) else None, "customer", Customer),
    ]
    slots = []
    for values, name, model in targets:
        value = (values or {}).get(name)
        if isinstance(value, str) and value.startswith(EXISTING):
            slots.append(int(value.removeprefix(EXISTING)))
            numbers = _existing_numbers(model)
            values[name] = numbers[slots[-1] % len(numbers)]
    return slots


#: What a random draw almost never gets right but the services require (a VAT rate the provider
#: invoices, a plausible service period, a known payment method), per operation.
PLAUSIBLE = {
    "/api/v1/charges": {"vat_rate": "20", "period_start": "2026-11-01", "period_end": "2026-11-30"},
    "/api/v1/customers/{number}/payments": {"method": "bank_transfer"},
    "/api/v1/customers": {"country": "FR", "postal_code": "69003", "siret": "", "vat_number": ""},
}


def _make_plausible(case: Any, slots: list[int]) -> None:
    """For about half of the examples, make the body one the services may accept.

    That half is chosen from the drawn data (a marker's slot, else the body's size), so a run
    replays. Only a valid body (a positive example at the body) is touched, so that every negative
    example stays invalid; the other fields (amounts, quantities, texts) are kept as drawn.
    """
    plausible = PLAUSIBLE.get(case.path)
    if not plausible or not isinstance(case.body, dict):
        return
    chosen = any(slot < 5 for slot in slots) if slots else len(repr(case.body)) % 2 == 0
    if not chosen:
        return
    if case.meta is None or case.meta.is_negative_at(ParameterLocation.BODY):
        return
    case.body.update(plausible)


@pytest.fixture
def _keep_test_connection() -> Any:
    """Keep the test's database connection open across requests, as Django's test client does.

    The WSGI handler closes "old" connections when a request starts and finishes; inside the
    test's transaction that would close it (PostgreSQL) and lose everything the examples made.
    """
    from django.core import signals
    from django.db import close_old_connections

    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def platform(db, _keep_test_connection, make_customer, charge, top_up, bill, make_api_key):
    """A key with every scope and a few customers, one with an issued and settled invoice."""
    key = make_api_key("all", name="schemathesis")
    customers = [make_customer() for _ in range(3)]
    for customer in customers[:2]:
        charge(customer)
    top_up(customers[0], amount="50.00")
    bill()
    return key


def _fresh_idempotency_key(case: Any) -> None:
    """Give a valid Idempotency-Key a value of its own, as a real client does per operation.

    Hypothesis repeats small values ("0"), and a key reused with another body is rightly refused
    (422 ``idempotency_key_reused``, tested in test_api_idempotency.py): that would hide the
    operation itself. An invalid key (a negative example) is sent as generated.
    """
    if case.headers is None or IDEMPOTENCY_KEY not in case.headers:
        return
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
        return
    case.headers[IDEMPOTENCY_KEY] = f"schemathesis-{next(_idempotency_keys)}"


@schema.parametrize()
# ``platform`` (and ``db``) are set up once per operation, not per example, on purpose: examples
# share the test's transaction, so what one creates the next can read, as on a live service.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_operation(case: Any, platform: Any) -> None:
    from encaisse.ledger.selectors import check_ledger

    _make_plausible(case, _use_existing_numbers(case))
    _fresh_idempotency_key(case)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {platform.raw}"}, additional_checks=[json_error_shape]
    )
    report = check_ledger()
    assert report.ok, report
