# SPDX-License-Identifier: AGPL-3.0-or-later
"""Signing in to the panel: e-mail + password, throttled, language from the profile, resets."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from encaisse.web.models import ThrottleCounter

from .conftest import PASSWORD


def sign_in(client, email, password, **extra):
    return client.post(reverse("panel:login"), {"username": email, "password": password}, **extra)


def test_a_customer_signs_in_with_email_and_password(client, alice):
    response = sign_in(client, "Alice@Example.org ", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("panel:dashboard")
    assert client.get(reverse("panel:dashboard")).context["customer"] == alice.customer


def test_the_panel_speaks_the_customers_language_after_sign_in(client, panel_customer):
    english = panel_customer("en@example.org", language="en")
    response = sign_in(client, "en@example.org", PASSWORD)
    assert response.cookies["django_language"].value == "en"
    assert "Dashboard" in client.get(reverse("panel:dashboard")).content.decode()
    assert english.customer.language == "en"


def _attempts(key):
    counter = ThrottleCounter.objects.filter(scope="sign-in:login", key=key).first()
    return counter.attempts if counter else 0


def test_a_wrong_password_is_refused_in_french_and_counted(client, alice):
    client.cookies["django_language"] = "fr"
    response = sign_in(client, "alice@example.org", "nope")
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in response.content.decode()
    assert _attempts("alice@example.org") == 1
    assert "_auth_user_id" not in client.session


def test_too_many_failures_lock_the_login_even_with_the_right_password(client, alice, settings):
    settings.ENCAISSE_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        sign_in(client, "alice@example.org", "wrong")
    client.cookies["django_language"] = "en"
    response = sign_in(client, "alice@example.org", PASSWORD)
    assert response.status_code == 200
    assert "Too many sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Other logins from elsewhere are not locked out by Alice's attacker.
    other = sign_in(client, "bob@example.org", PASSWORD, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_the_lock_is_per_address_too(client, alice_and_bob, settings):
    settings.ENCAISSE_LOGIN_MAX_FAILURES_PER_IP = 4
    for n in range(4):
        sign_in(client, f"nobody{n}@example.org", "wrong", REMOTE_ADDR="192.0.2.7")
    locked = sign_in(client, "bob@example.org", PASSWORD, REMOTE_ADDR="192.0.2.7")
    assert locked.status_code == 200
    assert sign_in(client, "bob@example.org", PASSWORD, REMOTE_ADDR="192.0.2.8").status_code == 302


def test_failures_expire_and_a_success_forgets_them(client, alice, settings):
    settings.ENCAISSE_LOGIN_MAX_FAILURES = 2
    sign_in(client, "alice@example.org", "wrong")
    sign_in(client, "alice@example.org", "wrong")
    assert sign_in(client, "alice@example.org", PASSWORD).status_code == 200  # locked
    ThrottleCounter.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert sign_in(client, "alice@example.org", PASSWORD).status_code == 302
    assert _attempts("alice@example.org") == 0


def test_a_staff_account_cannot_use_the_panel_sign_in(client, admin_user):
    admin_user.set_password(PASSWORD)
    admin_user.save()
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("panel:login"), {"username": admin_user.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_sign_out_needs_a_post_and_ends_the_session(alice_client):
    assert alice_client.get(reverse("panel:logout")).status_code == 405
    response = alice_client.post(reverse("panel:logout"))
    assert response.status_code == 302
    assert alice_client.get(reverse("panel:dashboard")).status_code == 302


def test_a_password_reset_link_lets_the_customer_choose_a_new_password(client, alice, mailoutbox):
    client.cookies["django_language"] = "fr"
    response = client.post(reverse("panel:password_reset"), {"email": "alice@example.org"})
    assert response.status_code == 302
    [mail] = mailoutbox
    assert mail.subject == "Choisissez un nouveau mot de passe pour votre espace de facturation"
    link = re.search(r"https?://[^/]+(/panel/password-reset/\S+/)", mail.body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    new = "an entirely new passphrase 42"
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert done.status_code == 302
    assert sign_in(client, "alice@example.org", new).status_code == 302
    # The link is single-use.
    assert not client.get(link, follow=True).context["validlink"]


@pytest.mark.parametrize("email", ["nobody@example.org", "admin@example.org"])
def test_no_reset_mail_for_unknown_or_staff_addresses(client, alice, admin_user, email, mailoutbox):
    admin_user.email = "admin@example.org"
    admin_user.save()
    response = client.post(reverse("panel:password_reset"), {"email": email})
    assert response.status_code == 302  # same answer: an address's existence is not revealed
    assert mailoutbox == []
