# SPDX-License-Identifier: AGPL-3.0-or-later
"""Last use of a key under concurrent requests (PostgreSQL): one guarded UPDATE wins, none fails.

PostgreSQL only: SQLite has a single writer, so there is nothing to race. ``transactional_db`` so
that each thread sees the others' commits.
"""

from __future__ import annotations

import pytest
from concurrency import run_concurrently
from django.conf import settings
from django.utils import timezone

from encaisse.api.keys import authenticate, create_api_key, record_use
from encaisse.api.models import ApiKey
from encaisse.core.actors import Actor

pytestmark = [
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="concurrency tests need PostgreSQL (SQLite has a single writer)",
    ),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]
THREADS = 10


def test_concurrent_first_uses_write_last_use_once():
    key, _raw = create_api_key(
        name="platform", scopes=["read"], created_by="tests", actor=Actor.system("tests")
    )
    now = timezone.now()

    outcomes = run_concurrently(
        [lambda: record_use(ApiKey.objects.get(pk=key.pk), now) for _ in range(THREADS)]
    )

    assert [error for _result, error in outcomes] == [None] * THREADS
    assert sorted(result for result, _error in outcomes) == [False] * (THREADS - 1) + [True]
    assert ApiKey.objects.get(pk=key.pk).last_used_at == now


def test_concurrent_requests_with_one_key_are_all_authenticated():
    key, raw = create_api_key(
        name="platform", scopes=["read"], created_by="tests", actor=Actor.system("tests")
    )

    outcomes = run_concurrently([lambda: authenticate(raw) for _ in range(THREADS)])

    assert [(result, error) for result, error in outcomes] == [(key, None)] * THREADS
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None
