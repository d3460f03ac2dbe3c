# SPDX-License-Identifier: AGPL-3.0-or-later
"""The language cookie carries the LANGUAGE_COOKIE_* settings wherever it is set (finding 9).

Production turns ``LANGUAGE_COOKIE_SECURE`` on (tests/test_deployment.py); here the setting is on
and every way the cookie is set must follow it: the panel sign-in, a new preferred language in the
billing settings, and Django's own ``/i18n/setlang/`` (the header's language button).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from .conftest import PASSWORD
from .test_forms import GOOD


@pytest.fixture(autouse=True)
def _production_cookie(settings):
    settings.LANGUAGE_COOKIE_SECURE = True
    settings.LANGUAGE_COOKIE_HTTPONLY = True
    settings.LANGUAGE_COOKIE_SAMESITE = "Lax"


def _assert_guarded(response, value):
    cookie = response.cookies["django_language"]
    assert cookie.value == value
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_the_sign_in_sets_a_secure_language_cookie(client, panel_customer):
    panel_customer("en@example.org", language="en")

    response = client.post(
        reverse("panel:login"), {"username": "en@example.org", "password": PASSWORD}
    )

    assert response.status_code == 302
    _assert_guarded(response, "en")


def test_a_new_preferred_language_sets_a_secure_language_cookie(alice_client, alice):
    response = alice_client.post(reverse("panel:billing_settings"), {**GOOD, "language": "en"})

    assert response.status_code == 302
    _assert_guarded(response, "en")


def test_the_language_button_sets_a_secure_language_cookie(alice_client):
    response = alice_client.post(
        reverse("set_language"), {"language": "en", "next": reverse("panel:dashboard")}
    )

    assert response.status_code == 302
    _assert_guarded(response, "en")
