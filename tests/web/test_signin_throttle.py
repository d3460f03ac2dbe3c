# SPDX-License-Identifier: AGPL-3.0-or-later
"""Every sign-in (panel, back-office) and password reset goes through one throttle, with one
refusal whatever failed (issue 12, findings 2, 3 and 8)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from encaisse.core.actors import Actor
from encaisse.customers.services import create_panel_login
from encaisse.web.models import ThrottleCounter

PASSWORD = "correct horse battery staple"
STAFF_LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def panel_login(make_customer):
    return create_panel_login(
        make_customer(), "alice@example.org", actor=Actor.system("tests"), password=PASSWORD
    )


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("sam", password=PASSWORD, is_staff=True)


def _end_windows() -> None:
    """Move time past every window (the counters' ends in the past)."""
    ThrottleCounter.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))


def panel_sign_in(client, username, password, **extra):
    data = {"username": username, "password": password}
    return client.post(reverse("panel:login"), data, HTTP_ACCEPT_LANGUAGE="en", **extra)


def staff_sign_in(client, username, password, code=None, **extra):
    data = {"username": username, "password": password, "next": "/admin/"}
    if code is not None:
        data["otp_token"] = code
    return client.post(STAFF_LOGIN, data, HTTP_ACCEPT_LANGUAGE="en", **extra)


def refusal(response) -> list[str]:
    assert response.status_code == 200, "signed in"
    return list(response.context["form"].non_field_errors())


# --- one message whatever failed ------------------------------------------------------------


def test_the_panel_refuses_everything_with_one_message(client, panel_login, django_user_model):
    django_user_model.objects.create_user("boss@example.org", password=PASSWORD, is_staff=True)
    django_user_model.objects.create_user("nobody@example.org", password=PASSWORD)  # no customer

    answers = [
        refusal(panel_sign_in(client, "alice@example.org", "wrong")),
        refusal(panel_sign_in(client, "unknown@example.org", PASSWORD)),
        refusal(panel_sign_in(client, "boss@example.org", PASSWORD)),  # a right staff password
        refusal(panel_sign_in(client, "nobody@example.org", PASSWORD)),
    ]

    assert answers == [["Wrong e-mail or password."]] * 4


def test_the_back_office_refuses_everything_with_one_message(
    client, staff, django_user_model, totp_device, totp_code
):
    device = totp_device(staff)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    nobody = django_user_model.objects.create_user("nobody", password=PASSWORD)  # not staff
    lonely = django_user_model.objects.create_user("lonely", password=PASSWORD, is_staff=True)

    answers = [
        refusal(staff_sign_in(client, "sam", "wrong", totp_code(device))),
        refusal(staff_sign_in(client, "ghost", PASSWORD, wrong)),
        refusal(staff_sign_in(client, "sam", PASSWORD, wrong)),  # finding 3: right password
        refusal(staff_sign_in(client, nobody.username, PASSWORD, wrong)),
        refusal(staff_sign_in(client, lonely.username, PASSWORD, "123456")),  # no device
    ]
    # django-otp now refuses any code of this device for a while: still the same answer.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=5, throttling_failure_timestamp=timezone.now()
    )
    answers.append(refusal(staff_sign_in(client, "sam", PASSWORD, totp_code(device))))

    assert len({tuple(answer) for answer in answers}) == 1
    assert answers[0][0].startswith("Wrong user name, password or code.")


def test_without_a_code_the_password_is_not_checked_nor_counted(client, staff, totp_device):
    totp_device(staff)

    right = staff_sign_in(client, "sam", PASSWORD, "")
    wrong = staff_sign_in(client, "sam", "wrong", "")

    assert refusal(right) == refusal(wrong) == []
    assert right.context["form"].errors == wrong.context["form"].errors
    assert not ThrottleCounter.objects.exists()


def test_with_the_second_factor_off_a_non_staff_password_looks_wrong(client, panel_login, settings):
    settings.ENCAISSE_STAFF_2FA = False

    right = refusal(staff_sign_in(client, "alice@example.org", PASSWORD))
    wrong = refusal(staff_sign_in(client, "alice@example.org", "wrong"))

    assert right == wrong


def test_control_characters_are_a_form_error_and_never_counted(client, panel_login, staff):
    """Finding 4: PostgreSQL refuses NUL in text; the fields refuse it before any query."""
    panel = panel_sign_in(client, "alice\x00@example.org", "wrong\x00")
    back_office = staff_sign_in(client, "sam\x00", PASSWORD, "123456")

    assert panel.status_code == back_office.status_code == 200
    assert panel.context["form"].errors and back_office.context["form"].errors
    assert not ThrottleCounter.objects.exists()


# --- locked: the right password waits for the end of the window -------------------------------


def test_a_locked_panel_login_refuses_the_right_password_until_the_window_ends(
    client, panel_login, settings
):
    settings.ENCAISSE_LOGIN_MAX_FAILURES = 3
    settings.ENCAISSE_LOGIN_LOCKOUT_MINUTES = 15
    for _ in range(3):
        panel_sign_in(client, "alice@example.org", "wrong")

    right = refusal(panel_sign_in(client, "alice@example.org", PASSWORD))
    wrong = refusal(panel_sign_in(client, "alice@example.org", "wrong"))

    assert right == wrong
    assert right == ["Too many sign-in attempts. For your security, wait 15 minutes and try again."]
    ThrottleCounter.objects.update(expires_at=timezone.now() + dt.timedelta(seconds=30))
    assert "wait 1 minute and" in refusal(panel_sign_in(client, "alice@example.org", PASSWORD))[0]
    _end_windows()
    assert panel_sign_in(client, "alice@example.org", PASSWORD).status_code == 302


def test_a_locked_staff_login_refuses_the_right_password_and_code_until_the_window_ends(
    client, staff, totp_device, totp_code, settings
):
    settings.ENCAISSE_LOGIN_MAX_FAILURES = 2
    device = totp_device(staff)
    for _ in range(2):
        staff_sign_in(client, "sam", "wrong", "000000")

    locked = staff_sign_in(client, "sam", PASSWORD, totp_code(device))

    assert "Too many sign-in attempts." in refusal(locked)[0]
    assert TOTPDevice.objects.get(pk=device.pk).last_t == -1  # the code was not even tried
    _end_windows()
    assert staff_sign_in(client, "sam", PASSWORD, totp_code(device)).status_code == 302


def test_panel_and_back_office_share_the_count_of_a_login(client, panel_login, settings):
    settings.ENCAISSE_LOGIN_MAX_FAILURES = 2
    settings.ENCAISSE_STAFF_2FA = False
    panel_sign_in(client, "alice@example.org", "wrong")
    staff_sign_in(client, "Alice@example.org", "wrong")

    locked = panel_sign_in(client, "alice@example.org", PASSWORD)

    assert "Too many sign-in attempts." in refusal(locked)[0]


def test_a_successful_sign_in_clears_the_login_but_not_the_address(client, panel_login, settings):
    settings.ENCAISSE_LOGIN_MAX_FAILURES = 3
    settings.ENCAISSE_LOGIN_MAX_FAILURES_PER_IP = 4
    panel_sign_in(client, "alice@example.org", "wrong", REMOTE_ADDR="192.0.2.5")
    panel_sign_in(client, "alice@example.org", "wrong", REMOTE_ADDR="192.0.2.5")
    assert (
        panel_sign_in(client, "alice@example.org", PASSWORD, REMOTE_ADDR="192.0.2.5").status_code
        == 302
    )
    client.logout()

    by_login = ThrottleCounter.objects.filter(scope="sign-in:login")
    by_client = ThrottleCounter.objects.get(scope="sign-in:client", key="192.0.2.5")
    assert not by_login.exists()
    assert by_client.attempts == 2  # the two failures; the success was given back
    panel_sign_in(client, "bob@example.org", "wrong", REMOTE_ADDR="192.0.2.5")
    panel_sign_in(client, "carol@example.org", "wrong", REMOTE_ADDR="192.0.2.5")
    locked = panel_sign_in(client, "alice@example.org", PASSWORD, REMOTE_ADDR="192.0.2.5")
    assert "Too many sign-in attempts." in refusal(locked)[0]


def test_a_new_password_from_the_reset_link_unlocks_the_login(client, panel_login, settings):
    settings.ENCAISSE_LOGIN_MAX_FAILURES = 1
    panel_sign_in(client, "alice@example.org", "wrong")
    assert panel_sign_in(client, "alice@example.org", PASSWORD).status_code == 200

    user = panel_login.user
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = reverse(
        "panel:password_reset_confirm", args=[uid, default_token_generator.make_token(user)]
    )
    form_page = client.get(link, follow=True)
    new = "an entirely new passphrase 42"
    client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})

    assert panel_sign_in(client, "alice@example.org", new).status_code == 302


# --- password reset e-mails (finding 8) --------------------------------------------------------


def reset(client, email, **extra):
    return client.post(reverse("panel:password_reset"), {"email": email}, **extra)


def test_twenty_resets_for_one_address_send_only_the_limit(
    client, panel_login, mailoutbox, settings
):
    settings.ENCAISSE_PASSWORD_RESET_MAX_PER_ADDRESS = 3
    done = reverse("panel:password_reset_done")

    answers = [reset(client, "Alice@Example.org", REMOTE_ADDR=f"198.51.100.{n}") for n in range(20)]

    assert {(a.status_code, a["Location"]) for a in answers} == {(302, done)}  # silently
    assert len(mailoutbox) == 3


def test_one_client_asking_for_many_addresses_is_throttled_too(
    client, panel_login, mailoutbox, settings
):
    settings.ENCAISSE_PASSWORD_RESET_MAX_PER_IP = 4
    for n in range(4):
        assert reset(client, f"nobody{n}@example.org").status_code == 302
    assert mailoutbox == []

    assert reset(client, "alice@example.org").status_code == 302

    assert mailoutbox == []  # over the client's limit: not sent, and not said
    assert reset(client, "alice@example.org", REMOTE_ADDR="198.51.100.9").status_code == 302
    assert len(mailoutbox) == 1


def test_unknown_and_known_addresses_are_counted_alike(client, panel_login, settings):
    """The throttle itself reveals nothing: it counts before looking for the address."""
    reset(client, "alice@example.org")
    reset(client, "nobody@example.org")

    counts = dict(
        ThrottleCounter.objects.filter(scope="reset:address").values_list("key", "attempts")
    )
    assert counts == {"alice@example.org": 1, "nobody@example.org": 1}
