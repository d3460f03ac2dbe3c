# SPDX-License-Identifier: AGPL-3.0-or-later
"""The staff second factor: TOTP devices (RFC 6238 codes from an authenticator app).

The back-office moves money, so a staff password alone does not open it while
``settings.ENCAISSE_STAFF_2FA`` is on (the default; production cannot turn it off). Devices are
django-otp's ``TOTPDevice`` rows; this module is the one place that creates, removes and checks
them, so the ``encaisse totp`` command and the admin login share the same rules:

- one confirmed device per staff user: enrolling again needs ``replace=True`` (a lost phone);
- enrolment and removal write an audit row (``encaisse.staff_totp.enrolled`` / ``.removed``);
- a code is checked under a row lock, is accepted once (django-otp keeps the last time step) and
  each wrong code doubles the wait before the next try (django-otp's throttling).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.exceptions import Conflict, ValidationError

_SPACES = re.compile(r"[\s\u00a0\u202f-]")


class SecondFactorError(ValidationError):
    code = "second_factor"


class NoDevice(SecondFactorError):
    message = _(
        "No authenticator app is set up for this account. Ask an administrator to run "
        "“encaisse totp enroll %(username)s”."
    )
    code = "no_device"


class WrongCode(SecondFactorError):
    message = _("This code is wrong or has expired. Enter the current 6-digit code of your app.")
    code = "wrong_code"


class TooManyAttempts(SecondFactorError):
    message = _("Too many wrong codes in a row. Wait a moment, then enter a new code.")
    code = "throttled"


class AlreadyEnrolled(Conflict):
    message = _("%(username)s already has an authenticator app; replace it to enrol a new one.")


class NotStaff(ValidationError):
    message = _("%(username)s is not a staff user: the second factor guards the back-office.")


def second_factor_required() -> bool:
    """Read at each request, so a test (or the demo's own settings) can switch it."""
    return bool(getattr(settings, "ENCAISSE_STAFF_2FA", True))


def totp_devices(user: Any = None) -> QuerySet[TOTPDevice]:
    """Confirmed devices, of one user or of everyone, oldest first, with their user."""
    devices = TOTPDevice.objects.filter(confirmed=True).select_related("user")
    if user is not None:
        devices = devices.filter(user=user)
    return devices.order_by("user__username", "pk")


@transaction.atomic
def enroll_totp_device(user: Any, *, actor: Actor, replace: bool = False) -> TOTPDevice:
    """Create the user's confirmed device; its ``config_url`` is shown once to the user."""
    username = user.get_username()
    if not user.is_staff:
        raise NotStaff(username=username)
    existing = TOTPDevice.objects.filter(user=user)
    if existing.exists() and not replace:
        raise AlreadyEnrolled(username=username)
    replaced = existing.delete()[0]
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    audit.record(
        "encaisse.staff_totp.enrolled", actor=actor, obj=device, user=username, replaced=replaced
    )
    return device


@transaction.atomic
def remove_totp_devices(user: Any, *, actor: Actor, reason: str = "") -> int:
    """Remove all the user's devices: with the second factor on, they cannot sign in any more."""
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    if removed:
        audit.record(
            "encaisse.staff_totp.removed",
            actor=actor,
            reason=reason,
            user=user.get_username(),
            removed=removed,
        )
    return removed


def verify_totp_code(user: Any, code: str) -> TOTPDevice:
    """The device that accepts ``code`` now, or a :class:`SecondFactorError` saying why not.

    The error is raised outside the transaction: a wrong code must still count against the
    device (django-otp's throttling), which a rollback would undo. The sign-in form shows none
    of these messages (it logs the code): it gives one refusal for a wrong password or a wrong
    code, which would otherwise tell that the password was right.
    """
    code = _SPACES.sub("", code or "")
    with transaction.atomic():
        devices = list(totp_devices(user).select_for_update(of=("self",)))
        allowed = [device for device in devices if device.verify_is_allowed()[0]]
        accepted = next((device for device in allowed if device.verify_token(code)), None)
    if accepted is not None:
        return accepted
    if not devices:
        raise NoDevice(username=user.get_username())
    if not allowed:
        raise TooManyAttempts
    raise WrongCode
