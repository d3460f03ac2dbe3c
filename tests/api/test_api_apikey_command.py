# SPDX-License-Identifier: AGPL-3.0-or-later
"""``encaisse apikey``: the key is printed once with its scopes, listed by prefix only (with its
scopes, expiry, last use and state), revoked with a trace."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from encaisse.api.keys import authenticate
from encaisse.api.models import ApiKey
from encaisse.core.models import AuditLog


def _run(*args: str) -> str:
    out = StringIO()
    call_command("apikey", *args, stdout=out)
    return out.getvalue()


def test_create_prints_a_working_key_once_and_list_never_shows_it(db):
    output = _run("create", "--name", "hosting platform", "--scope", "read")

    raw = output.strip().splitlines()[-1]
    key = ApiKey.objects.get()
    assert raw.startswith(f"enc_{key.prefix}_")
    assert authenticate(raw) == key
    assert key.created_by.startswith("cli:")
    listing = _run("list")
    assert key.prefix in listing and "hosting platform" in listing and "active" in listing
    assert raw not in listing


def test_revoke_disables_the_key_and_is_audited(db, client):
    raw = _run("create", "--name", "old platform", "--scope", "all").strip().splitlines()[-1]
    prefix = ApiKey.objects.get().prefix

    _run("revoke", prefix, "--reason", "rotated")

    assert authenticate(raw) is None
    assert client.get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert "revoked" in _run("list")
    revoked = AuditLog.objects.get(action="encaisse.api_key.revoked")
    assert (revoked.reason, revoked.actor_label[:4]) == ("rotated", "cli:")
    assert revoked.payload["scopes"] == ["charges", "customers", "invoices", "payments", "read"]
    with translation.override("en"), pytest.raises(CommandError, match="already revoked"):
        _run("revoke", prefix)
    with pytest.raises(CommandError):
        _run("revoke", "zzzzzzzz")


def test_a_key_needs_a_name(db):
    with pytest.raises(CommandError):
        _run("create", "--name", "  ", "--scope", "read")
    assert not ApiKey.objects.exists()


def test_create_gives_only_the_scopes_named_and_the_expiry(db):
    output = _run(
        "create",
        "--name",
        "billing",
        "--scope",
        "read",
        "--scope",
        "charges",
        "--expires",
        "2099-12-31",
    )

    key = ApiKey.objects.get()
    assert key.scopes == ["charges", "read"]
    assert key.expires_at == timezone.make_aware(dt.datetime(2099, 12, 31))
    assert "scopes charges, read" in output and "expires 2099-12-31 00:00" in output
    created = AuditLog.objects.get(action="encaisse.api_key.created")
    assert created.payload["scopes"] == ["charges", "read"]
    assert created.payload["expires_at"].startswith("2099-12-3")


def test_create_without_a_scope_is_refused_with_the_list_of_scopes(db):
    with translation.override("en"), pytest.raises(CommandError) as refused:
        _run("create", "--name", "platform")

    assert "read, customers, charges, invoices, payments, all" in str(refused.value)
    assert not ApiKey.objects.exists()


def test_an_unknown_scope_or_a_past_expiry_is_refused(db):
    with translation.override("en"), pytest.raises(CommandError, match="“admin”"):
        _run("create", "--name", "platform", "--scope", "read", "--scope", "admin")
    with translation.override("en"), pytest.raises(CommandError, match="future"):
        _run("create", "--name", "platform", "--scope", "read", "--expires", "2020-01-01")
    with pytest.raises(CommandError, match="not a date"):
        _run("create", "--name", "platform", "--scope", "read", "--expires", "next year")
    assert not ApiKey.objects.exists()


def test_scope_all_gives_every_scope(db):
    _run("create", "--name", "platform", "--scope", "all")

    assert ApiKey.objects.get().scopes == ["charges", "customers", "invoices", "payments", "read"]


def test_list_shows_scopes_expiry_last_use_and_state(db, client):
    raw = _run("create", "--name", "reader", "--scope", "read").strip().splitlines()[-1]
    _run("create", "--name", "stale", "--scope", "payments", "--expires", "2099-01-01")
    stale = ApiKey.objects.get(name="stale")
    ApiKey.objects.filter(pk=stale.pk).update(expires_at=timezone.now() - dt.timedelta(hours=1))
    assert client.get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200

    lines = {line.split()[1]: line for line in _run("list").splitlines()}

    reader = ApiKey.objects.get(name="reader")
    used = f"last used {timezone.localtime(reader.last_used_at):%Y-%m-%d %H:%M}"
    assert "scopes read " in lines["reader"] and "expires never" in lines["reader"]
    assert used in lines["reader"] and lines["reader"].endswith("active")
    assert "scopes payments " in lines["stale"] and "last used never" in lines["stale"]
    assert lines["stale"].endswith("expired")
