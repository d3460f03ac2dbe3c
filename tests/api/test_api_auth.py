# SPDX-License-Identifier: AGPL-3.0-or-later
"""Every operation needs a valid, unrevoked API key; the key itself is never stored."""

import hashlib
import re

import pytest

from encaisse.api.keys import authenticate, create_api_key, revoke_api_key
from encaisse.api.models import ApiKey
from encaisse.core.actors import Actor
from encaisse.core.models import AuditLog
from encaisse.customers.models import Customer
from encaisse.invoicing.models import Charge

from .conftest import ApiClient


def _refused(response) -> None:
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_request_without_a_key_is_refused_and_changes_nothing(anonymous, customer_body):
    _refused(anonymous.post("/customers", customer_body))
    _refused(anonymous.get("/customers"))
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer not-a-key",
        "Basic dXNlcjpwYXNz",
        "Token enc_abcd1234_" + "x" * 43,
        "Bearer enc_abcd1234_short",
    ],
)
def test_a_malformed_authorization_header_is_refused(client, db, header):
    _refused(client.get("/api/v1/customers", HTTP_AUTHORIZATION=header))


def test_a_wrong_secret_for_a_known_prefix_is_refused(client, api_key, make_customer, charge_body):
    customer = make_customer()
    forged = f"enc_{api_key.prefix}_" + "A" * 43
    _refused(ApiClient(client, forged).post("/charges", charge_body(customer)))
    _refused(ApiClient(client, "enc_00000000_" + "A" * 43).get("/customers"))
    assert Charge.objects.count() == 0


def test_a_revoked_key_is_refused_and_changes_nothing(api, api_key, make_customer, charge_body):
    customer = make_customer()
    assert api.get("/customers").status_code == 200
    revoke_api_key(api_key, actor=Actor.system("tests"), reason="leaked")
    _refused(api.post("/charges", charge_body(customer)))
    _refused(api.get(f"/customers/{customer.number}"))
    assert Charge.objects.count() == 0


def test_keys_are_random_shown_once_and_stored_as_a_sha256_only(db):
    key, raw = create_api_key(
        name="platform", scopes=["read"], created_by="ops", actor=Actor.system("tests")
    )
    other, other_raw = create_api_key(
        name="platform", scopes=["read"], created_by="ops", actor=Actor.system("t")
    )
    assert re.fullmatch(r"enc_[a-z0-9]{8}_[A-Za-z0-9_-]{32,}", raw)
    assert raw != other_raw and key.prefix != other.prefix
    assert raw.startswith(f"enc_{key.prefix}_")
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.name, stored.prefix, stored.key_hash, stored.created_by}
    assert authenticate(raw) == key
    assert authenticate(raw + "x") is None


def test_creating_and_revoking_a_key_is_audited(db):
    actor = Actor.system("tests")
    key, _raw = create_api_key(name="platform", scopes=["read"], created_by="ops", actor=actor)
    revoke_api_key(key, actor=actor, reason="rotation")
    actions = list(
        AuditLog.objects.filter(object_id=str(key.pk), object_type="api.apikey")
        .order_by("id")
        .values_list("action", "reason")
    )
    assert actions == [("encaisse.api_key.created", ""), ("encaisse.api_key.revoked", "rotation")]


def test_the_key_is_the_actor_of_what_it_does(api, api_key, make_customer, charge_body):
    customer = make_customer()
    assert api.post("/charges", charge_body(customer)).status_code == 201
    charge = Charge.objects.get()
    assert (charge.actor_kind, charge.actor_id) == ("api_key", str(api_key.pk))
