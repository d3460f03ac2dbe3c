# SPDX-License-Identifier: AGPL-3.0-or-later
"""The back-office API keys page shows what each key may do, when it expires and was last used."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone, translation

from encaisse.api.keys import create_api_key
from encaisse.api.models import ApiKey
from encaisse.core.actors import Actor


def _key(name: str, *scopes: str, expires_at: dt.datetime | None = None) -> ApiKey:
    key, _raw = create_api_key(
        name=name, scopes=scopes, expires_at=expires_at, created_by="ops", actor=Actor.system("t")
    )
    return key


def test_the_list_shows_scopes_state_expiry_and_last_use(admin_client):
    reader = _key("reader", "read")
    payer = _key("payer", "payments", expires_at=timezone.now() + dt.timedelta(days=1))
    ApiKey.objects.filter(pk=payer.pk).update(expires_at=timezone.now() - dt.timedelta(hours=1))
    ApiKey.objects.filter(pk=reader.pk).update(last_used_at=timezone.now())

    with translation.override("en"):
        page = admin_client.get(
            reverse("admin:api_apikey_changelist"), HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()

    for text in ("Scopes", "State", "Expires", "Last used", "read: read everything (every GET)"):
        assert text in page, text
    assert "payments: record money received" in page
    assert "expired" in page and "active" in page


def test_the_detail_page_shows_the_same_and_cannot_edit(admin_client):
    key = _key("platform", "charges", "read")

    with translation.override("en"):
        response = admin_client.get(
            reverse("admin:api_apikey_change", args=[key.pk]), HTTP_ACCEPT_LANGUAGE="en"
        )

    page = response.content.decode()
    assert response.status_code == 200
    assert "charges: create charges; read: read everything (every GET)" in page
    assert 'name="_save"' not in page
