# SPDX-License-Identifier: AGPL-3.0-or-later
"""``encaisse apikey``: the key is printed once, listed by prefix only, revoked with a trace."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from encaisse.api.keys import authenticate
from encaisse.api.models import ApiKey
from encaisse.core.models import AuditLog


def _run(*args: str) -> str:
    out = StringIO()
    call_command("apikey", *args, stdout=out)
    return out.getvalue()


def test_create_prints_a_working_key_once_and_list_never_shows_it(db):
    output = _run("create", "--name", "hosting platform")

    raw = output.strip().splitlines()[-1]
    key = ApiKey.objects.get()
    assert raw.startswith(f"enc_{key.prefix}_")
    assert authenticate(raw) == key
    assert key.created_by.startswith("cli:")
    listing = _run("list")
    assert key.prefix in listing and "hosting platform" in listing and "active" in listing
    assert raw not in listing


def test_revoke_disables_the_key_and_is_audited(db, client):
    raw = _run("create", "--name", "old platform").strip().splitlines()[-1]
    prefix = ApiKey.objects.get().prefix

    _run("revoke", prefix, "--reason", "rotated")

    assert authenticate(raw) is None
    assert client.get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert "revoked" in _run("list")
    revoked = AuditLog.objects.get(action="encaisse.api_key.revoked")
    assert (revoked.reason, revoked.actor_label[:4]) == ("rotated", "cli:")
    with translation.override("en"), pytest.raises(CommandError, match="already revoked"):
        _run("revoke", prefix)
    with pytest.raises(CommandError):
        _run("revoke", "zzzzzzzz")


def test_a_key_needs_a_name(db):
    with pytest.raises(CommandError):
        _run("create", "--name", "  ")
    assert not ApiKey.objects.exists()
