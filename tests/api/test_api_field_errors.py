# SPDX-License-Identifier: AGPL-3.0-or-later
"""Field errors of schema validation come in the client's language, with their constraint."""

from __future__ import annotations

from encaisse.api import field_errors


def _errors(response):
    assert response.status_code == 422
    return {tuple(e["loc"])[-1]: e for e in response.json()["errors"]}


def test_a_missing_field_is_named_in_french_by_default(api, make_customer, charge_body):
    body = charge_body(make_customer())
    del body["description"]
    errors = _errors(api.post("/charges", body))
    assert errors["description"]["type"] == "missing"
    assert errors["description"]["message"] == "Ce champ est obligatoire."


def test_a_too_long_text_says_the_limit_in_english_when_asked(api, make_customer, charge_body):
    body = charge_body(make_customer(), description="x" * 500)
    errors = _errors(api.post("/charges", body, HTTP_ACCEPT_LANGUAGE="en"))
    assert errors["description"]["type"] == "string_too_long"
    assert errors["description"]["message"] == "Give at most 200 characters."


def test_unlisted_types_keep_pydantic_s_message():
    error = {"type": "something_new", "msg": "Something new went wrong", "ctx": {}}
    assert field_errors.message(error) == "Something new went wrong"


def test_a_too_long_text_says_the_limit_in_french_by_default(api, make_customer, charge_body):
    body = charge_body(make_customer(), description="x" * 500)
    errors = _errors(api.post("/charges", body))
    assert errors["description"]["message"] == "Donnez au plus 200 caractères."
