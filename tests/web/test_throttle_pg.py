# SPDX-License-Identifier: AGPL-3.0-or-later
"""Twelve concurrent wrong passwords for one login: at most the limit reach the hasher (issue 12,
finding 2 and acceptance line 3), for a panel login and for a staff login with its second factor.

Real threads, each with its own connection, post to the real sign-in pages at once, with the
real (slow) PBKDF2 hasher, wrapped to count the passwords it checks: the old throttle read the
count before the ~1 s hash and wrote the failure after it, so all twelve were checked. Then the
right password is refused until the window ends, and accepted after it.

PostgreSQL only (SQLite has a single writer); ``transaction=True`` so threads see each other's
commits.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from concurrency import run_concurrently
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from encaisse.core.actors import Actor
from encaisse.customers.services import create_panel_login
from encaisse.web.models import ThrottleCounter

pytestmark = [
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="concurrency tests need PostgreSQL (SQLite has a single writer)",
    ),
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

LIMIT = 5
ATTEMPTS = 12
PASSWORD = "correct horse battery staple"
STAFF_LOGIN = "/admin/login/?next=/admin/"


class HasherCalls:
    """Counts the passwords PBKDF2 checks, across threads."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def wrap(self, verify):
        def counted(hasher, password, encoded):
            with self._lock:
                self.count += 1
            return verify(hasher, password, encoded)

        return counted


@pytest.fixture
def hasher_calls(settings, monkeypatch) -> HasherCalls:
    """The real hasher (not the tests' fast MD5), counted."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    settings.ENCAISSE_LOGIN_MAX_FAILURES = LIMIT
    settings.ENCAISSE_LOGIN_MAX_FAILURES_PER_IP = 1000
    calls = HasherCalls()
    monkeypatch.setattr(PBKDF2PasswordHasher, "verify", calls.wrap(PBKDF2PasswordHasher.verify))
    return calls


def _concurrent_wrong_passwords(post) -> list[int]:
    """Twelve wrong passwords at once, from twelve addresses; the status of each answer."""
    jobs = [
        lambda n=n: post(Client(), "wrong password", f"198.51.100.{n}") for n in range(ATTEMPTS)
    ]
    outcomes = run_concurrently(jobs)
    assert [error for _, error in outcomes if error] == []
    return [response.status_code for response, _ in outcomes]


def _end_windows() -> None:
    ThrottleCounter.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))


def _throttled(response) -> bool:
    return any(e.code == "throttled" for e in response.context["form"].non_field_errors().data)


def test_a_panel_login_checks_at_most_the_limit_of_concurrent_passwords(
    hasher_calls, make_customer
):
    email = "alice@example.org"
    create_panel_login(make_customer(), email, actor=Actor.system("tests"), password=PASSWORD)

    def post(client, password, address):
        data = {"username": email, "password": password}
        return client.post(reverse("panel:login"), data, REMOTE_ADDR=address)

    assert _concurrent_wrong_passwords(post) == [200] * ATTEMPTS
    assert 1 <= hasher_calls.count <= LIMIT
    checked = hasher_calls.count

    locked = post(Client(), PASSWORD, "203.0.113.1")
    assert locked.status_code == 200 and _throttled(locked)
    assert hasher_calls.count == checked  # refused before the hasher
    _end_windows()
    assert post(Client(), PASSWORD, "203.0.113.1").status_code == 302


def test_a_staff_login_checks_at_most_the_limit_of_concurrent_passwords(
    hasher_calls, django_user_model, totp_device, totp_code
):
    staff = django_user_model.objects.create_user("sam", password=PASSWORD, is_staff=True)
    device = totp_device(staff)

    def post(client, password, address, code="000000"):
        data = {"username": "sam", "password": password, "otp_token": code, "next": "/admin/"}
        return client.post(STAFF_LOGIN, data, REMOTE_ADDR=address)

    assert _concurrent_wrong_passwords(post) == [200] * ATTEMPTS
    assert 1 <= hasher_calls.count <= LIMIT
    checked = hasher_calls.count

    locked = post(Client(), PASSWORD, "203.0.113.1", totp_code(device))
    assert locked.status_code == 200 and _throttled(locked)
    assert hasher_calls.count == checked
    _end_windows()
    assert post(Client(), PASSWORD, "203.0.113.1", totp_code(device)).status_code == 302
