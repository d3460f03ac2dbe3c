# SPDX-License-Identifier: AGPL-3.0-or-later
"""Sign-in throttling: a login name or a client address with too many recent failures waits.

Counted from :class:`~encaisse.web.models.LoginFailure` rows so every web process sees the same
count. Per login name it stops password guessing on one account (OWASP ASVS 2.2.1); per address it
slows one client trying many accounts, with a higher limit because offices share an address.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from encaisse.web.models import LoginFailure


def _window_start() -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=settings.ENCAISSE_LOGIN_LOCKOUT_MINUTES)


def client_address(request: HttpRequest) -> str | None:
    """The peer address as the WSGI server saw it (a reverse proxy must pass the client's)."""
    return request.META.get("REMOTE_ADDR") or None


def normalise(username: str) -> str:
    return (username or "").strip().lower()[:254]


def is_locked(request: HttpRequest, username: str) -> bool:
    since = _window_start()
    recent = LoginFailure.objects.filter(at__gte=since)
    if recent.filter(username=normalise(username)).count() >= settings.ENCAISSE_LOGIN_MAX_FAILURES:
        return True
    address = client_address(request)
    if address is None:
        return False
    per_ip = recent.filter(ip_address=address).count()
    return per_ip >= settings.ENCAISSE_LOGIN_MAX_FAILURES_PER_IP


def record_failure(request: HttpRequest, username: str) -> None:
    LoginFailure.objects.filter(at__lt=_window_start()).delete()
    LoginFailure.objects.create(username=normalise(username), ip_address=client_address(request))


def clear_failures(request: HttpRequest, username: str) -> None:
    """A successful sign-in forgets that login's failures (not the address's)."""
    LoginFailure.objects.filter(username=normalise(username)).delete()
