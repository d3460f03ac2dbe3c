# SPDX-License-Identifier: AGPL-3.0-or-later
"""``encaisse totp``: enrol, list and remove staff authenticator apps, audit-logged."""

from __future__ import annotations

import base64
import time
from io import StringIO
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from encaisse.core.models import AuditLog
from encaisse.web.staff.second_factor import verify_totp_code


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("alice", password="s3cret-pass", is_staff=True)


def _totp(*args: str, language: str = "en") -> str:
    out = StringIO()
    with translation.override(language):
        call_command("totp", *args, stdout=out)
    return out.getvalue()


def _uri(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("otpauth://"))


def test_enroll_prints_a_uri_whose_codes_open_the_back_office(client, staff):
    output = _totp("enroll", "alice")

    uri = urlparse(_uri(output))
    params = parse_qs(uri.query)
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/Encaisse%3Aalice")
    assert params["issuer"] == ["Encaisse"]
    assert (params["digits"], params["period"]) == (["6"], ["30"])
    # What the phone computes from the printed secret is what the login accepts.
    secret = base64.b32decode(params["secret"][0])
    code = f"{TOTP(secret, step=30, digits=6).token():06d}"
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "alice", "password": "s3cret-pass", "otp_token": code, "next": "/admin/"},
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_enroll_draws_a_qr_code_in_the_terminal_unless_asked_not_to(staff):
    pytest.importorskip("segno")
    with_qr = _totp("enroll", "alice")
    without = _totp("enroll", "alice", "--replace", "--no-qr")

    assert "█" in with_qr or "▀" in with_qr
    assert "█" not in without and "▀" not in without


def test_enroll_writes_a_confirmed_device_and_an_audit_row(staff):
    _totp("enroll", "alice")

    device = TOTPDevice.objects.get(user=staff)
    assert device.confirmed
    log = AuditLog.objects.get(action="encaisse.staff_totp.enrolled")
    assert log.actor_label.startswith("cli:")
    assert log.payload == {"user": "alice", "replaced": 0}
    assert device.key not in str(log.payload)  # the secret never reaches the audit log


def test_a_second_enrolment_needs_replace_and_revokes_the_old_app(staff):
    _totp("enroll", "alice")
    old_key = TOTPDevice.objects.get(user=staff).key

    with pytest.raises(CommandError, match="already has an authenticator app"):
        _totp("enroll", "alice")
    _totp("enroll", "alice", "--replace")

    assert TOTPDevice.objects.filter(user=staff).count() == 1
    assert TOTPDevice.objects.get(user=staff).key != old_key


def test_only_staff_users_are_enrolled(django_user_model):
    django_user_model.objects.create_user("bob", password="x")

    with pytest.raises(CommandError, match="not a staff user"):
        _totp("enroll", "bob")
    with pytest.raises(CommandError, match="n'est pas un membre de l'équipe"):
        _totp("enroll", "bob", language="fr")
    with pytest.raises(CommandError, match="No user “carol”"):
        _totp("enroll", "carol")
    assert not TOTPDevice.objects.exists()


def test_list_shows_users_never_secrets(staff):
    assert "No authenticator app is set up." in _totp("list")
    _totp("enroll", "alice")
    device = TOTPDevice.objects.get(user=staff)

    listing = _totp("list")

    assert listing.startswith("alice  set up ")
    assert "last used never" in listing
    assert device.key not in listing
    assert base64.b32encode(device.bin_key).decode() not in listing


def test_remove_locks_the_user_out_and_is_audited(client, staff, totp_code):
    _totp("enroll", "alice")
    device = TOTPDevice.objects.get(user=staff)
    code = totp_code(device)

    assert "1 authenticator app(s) of alice removed." in _totp(
        "remove", "alice", "--reason", "phone lost"
    )

    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert AuditLog.objects.get(action="encaisse.staff_totp.removed").reason == "phone lost"
    response = client.post(
        "/admin/login/",
        {"username": "alice", "password": "s3cret-pass", "otp_token": code},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    # The one refusal of the sign-in (a right password is not confirmed), with its hint.
    assert "ask an administrator" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_codes_keep_working_within_the_clock_tolerance(staff, totp_code):
    """Phones drift: the previous and the next 30-second code are accepted too."""
    _totp("enroll", "alice")
    device = TOTPDevice.objects.get(user=staff)
    previous = TOTP(device.bin_key, step=30, digits=6)
    previous.time = time.time() - 30
    assert verify_totp_code(staff, f"{previous.token():06d}") == device

    _totp("enroll", "alice", "--replace", "--no-qr")
    device = TOTPDevice.objects.get(user=staff)
    assert verify_totp_code(staff, totp_code(device, steps_ahead=1)) == device
