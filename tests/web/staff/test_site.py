# SPDX-License-Identifier: AGPL-3.0-or-later
"""The back-office asks staff for a second factor (TOTP code) unless the setting turns it off."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

LOGIN = "/admin/login/?next=/admin/"
INDEX = "/admin/"
#: The one refusal with the second factor on (wrong password, wrong code, no device…).
REFUSED = "Wrong user name, password or code."


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("alice", password="s3cret-pass", is_staff=True)


def _login(client, code=None, password="s3cret-pass"):
    data = {"username": "alice", "password": password, "next": INDEX}
    if code is not None:
        data["otp_token"] = code
    return client.post(LOGIN, data, HTTP_ACCEPT_LANGUAGE="en")


def _opens_back_office(client) -> bool:
    return client.get(INDEX).status_code == 200


def test_the_login_form_asks_for_the_code(client, db):
    html = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'name="otp_token"' in html
    assert 'autocomplete="one-time-code"' in html
    assert '<label for="id_otp_token"' in html  # labelled for screen readers


def test_password_without_code_is_refused(client, staff, totp_device):
    totp_device(staff)
    response = _login(client, code="")

    assert response.status_code == 200
    assert "Enter the 6-digit code from your authenticator app." in response.content.decode()
    assert not _opens_back_office(client)


def test_a_wrong_code_is_refused_and_counted(client, staff, totp_device, totp_code):
    device = totp_device(staff)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"

    response = _login(client, code=wrong)

    assert REFUSED in response.content.decode()
    assert not _opens_back_office(client)
    assert TOTPDevice.objects.get(pk=device.pk).throttling_failure_count == 1


def test_the_right_code_opens_the_back_office(client, staff, totp_device, totp_code):
    device = totp_device(staff)

    response = _login(client, code=totp_code(device))

    assert response.status_code == 302
    assert response["Location"] == INDEX
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert _opens_back_office(client)


def test_a_code_with_a_space_is_accepted(client, staff, totp_device, totp_code):
    code = totp_code(totp_device(staff))

    assert _login(client, code=f"{code[:3]} {code[3:]}").status_code == 302


def test_a_code_is_accepted_only_once(client, staff, totp_device, totp_code):
    device = totp_device(staff)
    code = totp_code(device)
    assert _login(client, code=code).status_code == 302
    client.logout()

    response = _login(client, code=code)

    assert REFUSED in response.content.decode()
    assert not _opens_back_office(client)


def test_after_wrong_codes_even_the_right_code_waits(client, staff, totp_device, totp_code):
    device = totp_device(staff)
    # Five wrong codes just now: django-otp locks the device for 2**4 seconds.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=5, throttling_failure_timestamp=timezone.now()
    )

    response = _login(client, code=totp_code(device))

    assert REFUSED in response.content.decode()  # the password was right: not said either
    assert not _opens_back_office(client)


def test_a_wrong_password_with_the_right_code_is_refused(client, staff, totp_device, totp_code):
    device = totp_device(staff)

    response = _login(client, code=totp_code(device), password="wrong")

    assert response.status_code == 200
    assert not _opens_back_office(client)
    assert TOTPDevice.objects.get(pk=device.pk).last_t == -1  # the code was not even tried


def test_staff_without_an_authenticator_app_cannot_sign_in(client, staff):
    response = _login(client, code="123456")

    assert REFUSED in response.content.decode()
    assert "if none is set up for your account, ask an administrator" in response.content.decode()
    assert not _opens_back_office(client)


def test_a_password_only_session_does_not_open_the_back_office(client, staff, totp_device):
    totp_device(staff)
    client.force_login(staff)  # e.g. signed in through another login page

    response = client.get(INDEX)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "without the code of your authenticator app" in page


def test_staff_actions_need_the_second_factor_too(client, staff, totp_device, books):
    staff.is_superuser = True
    staff.save()
    totp_device(staff)
    client.force_login(staff)
    url = reverse("admin:customers_customer_record_payment", args=[books.customer.pk])

    assert client.get(url).status_code == 302


def test_with_the_setting_off_a_password_is_enough_and_the_index_says_so(client, staff, settings):
    settings.ENCAISSE_STAFF_2FA = False

    assert 'name="otp_token"' not in client.get(LOGIN).content.decode()
    assert _login(client).status_code == 302
    index = client.get(INDEX, HTTP_ACCEPT_LANGUAGE="en")
    assert index.status_code == 200
    assert "The second factor of staff sign-in is off" in index.content.decode()


def test_with_the_setting_on_the_index_has_no_warning(admin_client):
    html = admin_client.get(INDEX, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'id="dashboard"' in html
    assert "second-factor-off" not in html


def _settings_check(tmp_path, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ENCAISSE_STAFF_2FA"}}
    env.update(
        ENCAISSE_DATA_DIR=str(tmp_path),
        SECRET_KEY="k" * 20 + "-production-secret-for-the-check-0123456789",
        ALLOWED_HOSTS="billing.example.com",
        **env_overrides,
    )
    return subprocess.run(
        [sys.executable, "-m", "encaisse.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("value", ["0", "off", "false"])
def test_production_refuses_to_turn_the_second_factor_off(tmp_path, value):
    result = _settings_check(tmp_path, ENCAISSE_ENV="production", ENCAISSE_STAFF_2FA=value)

    assert result.returncode != 0
    assert "ENCAISSE_STAFF_2FA cannot be turned off when ENCAISSE_ENV=production" in result.stderr


def test_development_may_turn_it_off_and_refuses_unknown_values(tmp_path):
    assert _settings_check(tmp_path, ENCAISSE_STAFF_2FA="0").returncode == 0
    unknown = _settings_check(tmp_path, ENCAISSE_STAFF_2FA="maybe")
    assert unknown.returncode != 0
    assert "ENCAISSE_STAFF_2FA must be 1 (on) or 0 (off)" in unknown.stderr
