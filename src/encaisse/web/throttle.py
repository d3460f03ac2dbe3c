# SPDX-License-Identifier: AGPL-3.0-or-later
"""One throttle for every sign-in and password reset, counted before the password is checked.

Each attempt first takes a number from a counter in the database
(:class:`~encaisse.web.models.ThrottleCounter`), with one statement::

    INSERT … ON CONFLICT (scope, key) DO UPDATE SET attempts = attempts + 1 … RETURNING attempts

(SQLite ≥ 3.35 and PostgreSQL). The statement is atomic and serialised on the row, so twelve
concurrent attempts on one login get the numbers 1 to 12 whatever the number of web processes, and
only those numbered up to the limit go on to the password hasher: the count cannot be raced. An
attempt over the limit is refused without looking at the password, so while a login is locked the
right password is refused too, until the window ends; the refusal may therefore say so ("wait N
minutes") without telling anything about the password.

Why not the previous throttle, nor django-axes: both *read* the count before the ~1 s password hash
and *write* the failure after it (axes through the ``user_login_failed`` signal), so every attempt
started during that second passes the check: twelve concurrent guesses were all checked against a
limit of five (issue 12, finding 2).

The window of a key starts at its first attempt and lasts ``ENCAISSE_LOGIN_LOCKOUT_MINUTES``; the
first attempt after it starts a new window on the same row. Attempts are counted, not failures: a
successful sign-in forgets its login's counter and gives back its attempt to the client address's
counter (an office signing in many people through one address is not locked by its successes).

Call these functions outside a database transaction (Django's default autocommit: the views do):
inside one, the count would only be shared at COMMIT, and the row lock held until then.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from encaisse.core import periodic
from encaisse.web.models import ThrottleCounter

#: Control characters never reach the database (PostgreSQL refuses NUL in text).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Expired counters removed per pass of the clean-up job.
PURGE_BATCH = 10_000


@dataclass(frozen=True)
class Limit:
    """At most ``maximum`` attempts per key of ``scope`` in a window (read from ``setting``)."""

    scope: str
    setting: str
    default: int

    @property
    def maximum(self) -> int:
        return int(getattr(settings, self.setting, self.default))


#: Password guessing on one account (OWASP ASVS 2.2.1), panel and back-office alike.
SIGN_IN_LOGIN = Limit("sign-in:login", "ENCAISSE_LOGIN_MAX_FAILURES", 5)
#: One client trying many accounts; higher, as offices share an address.
SIGN_IN_CLIENT = Limit("sign-in:client", "ENCAISSE_LOGIN_MAX_FAILURES_PER_IP", 30)
#: Reset e-mails sent to one address (a mailbox flooded through our form).
RESET_ADDRESS = Limit("reset:address", "ENCAISSE_PASSWORD_RESET_MAX_PER_ADDRESS", 3)
#: Reset e-mails asked by one client, whatever the addresses.
RESET_CLIENT = Limit("reset:client", "ENCAISSE_PASSWORD_RESET_MAX_PER_IP", 10)


class Throttled(Exception):
    """Too many attempts: refused, whatever the password, until ``until``."""

    def __init__(self, limit: Limit, until: dt.datetime) -> None:
        super().__init__(f"{limit.scope}: throttled until {until.isoformat()}")
        self.limit = limit
        self.until = until

    def minutes_left(self) -> int:
        """Whole minutes to wait, rounded up (at least one)."""
        seconds = (self.until - timezone.now()).total_seconds()
        return max(1, math.ceil(seconds / 60))


def window() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "ENCAISSE_LOGIN_LOCKOUT_MINUTES", 15)))


def client_address(request: HttpRequest | None) -> str | None:
    """The peer address as the WSGI server saw it (a reverse proxy must pass the client's)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def normalise(value: str) -> str:
    """The counter key of a login or an e-mail: case and spaces do not make a new counter."""
    return _CONTROL.sub("", value or "").strip().lower()[:254]


def _upsert_sql() -> str:
    q = connection.ops.quote_name
    table, expires, attempts = q(ThrottleCounter._meta.db_table), q("expires_at"), q("attempts")
    # Both SET expressions read the row as it was before the update (SQL and SQLite alike).
    restart = f"{table}.{expires} <= %s"
    return (
        f"INSERT INTO {table} ({q('scope')}, {q('key')}, {attempts}, {expires}) "
        f"VALUES (%s, %s, 1, %s) "
        f"ON CONFLICT ({q('scope')}, {q('key')}) DO UPDATE SET "
        f"{attempts} = CASE WHEN {restart} THEN 1 ELSE {table}.{attempts} + 1 END, "
        f"{expires} = CASE WHEN {restart} THEN excluded.{expires} ELSE {table}.{expires} END "
        f"RETURNING {attempts}, {expires}"
    )


def _aware(value: dt.datetime | str) -> dt.datetime:
    """A timestamp read by raw SQL: SQLite returns text, PostgreSQL an aware datetime."""
    parsed = parse_datetime(value) if isinstance(value, str) else value
    if parsed is None:
        raise ValueError(f"not a timestamp: {value!r}")
    return timezone.make_aware(parsed, dt.UTC) if timezone.is_naive(parsed) else parsed


def count(limit: Limit, key: str) -> tuple[int, dt.datetime]:
    """Count one attempt for ``key``: its number in the current window, and the window's end."""
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    params = [limit.scope, key, adapt(now + window()), adapt(now), adapt(now)]
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(), params)
        attempts, expires_at = cursor.fetchone()
    return int(attempts), _aware(expires_at)


def admit(*checks: tuple[Limit, str | None]) -> None:
    """Count one attempt against each (limit, key) in turn; :class:`Throttled` at the first one
    over its limit (the later ones are not counted). A ``None`` key (no client address) is
    skipped."""
    for limit, key in checks:
        if key is None:
            continue
        attempts, expires_at = count(limit, key)
        if attempts > limit.maximum:
            raise Throttled(limit, expires_at)


def forget(limit: Limit, key: str | None) -> None:
    """Start the key's count afresh (a successful sign-in, a password reset)."""
    if key is not None:
        ThrottleCounter.objects.filter(scope=limit.scope, key=key).delete()


def give_back(limit: Limit, key: str | None) -> None:
    """Take back one attempt counted for the key (one that turned out legitimate)."""
    if key is not None:
        ThrottleCounter.objects.filter(scope=limit.scope, key=key, attempts__gt=0).update(
            attempts=F("attempts") - 1
        )


# --- what the sign-in and reset forms call ---------------------------------------------------


def admit_sign_in(username: str, request: HttpRequest | None) -> None:
    """Before the password is checked: count the attempt for the client, then for the login."""
    admit(
        (SIGN_IN_CLIENT, client_address(request)),
        (SIGN_IN_LOGIN, normalise(username)),
    )


def signed_in(username: str, request: HttpRequest | None) -> None:
    """After a complete sign-in: forget the login's count, give back the client's attempt."""
    forget(SIGN_IN_LOGIN, normalise(username))
    give_back(SIGN_IN_CLIENT, client_address(request))


def password_reset_done(username: str) -> None:
    """A new password chosen through an e-mailed link: the guesses against the old one no
    longer matter, and the owner of the mailbox must not stay locked out."""
    forget(SIGN_IN_LOGIN, normalise(username))


def admit_reset(email: str, request: HttpRequest | None) -> bool:
    """Whether a reset e-mail may be sent for this request (counted per client, then address)."""
    try:
        admit((RESET_CLIENT, client_address(request)), (RESET_ADDRESS, normalise(email)))
    except Throttled:
        return False
    return True


# --- clean-up ---------------------------------------------------------------------------------


def purge_expired() -> int:
    """Remove counters whose window ended (bounded per pass); how many were removed.

    The DELETE checks the expiry again: a counter restarted meanwhile by an attempt is kept.
    """
    now = timezone.now()
    expired = ThrottleCounter.objects.filter(expires_at__lte=now)
    ids = list(expired.order_by().values_list("pk", flat=True)[:PURGE_BATCH])
    if not ids:
        return 0
    return expired.filter(pk__in=ids).delete()[0]


def purge_job() -> periodic.PeriodicJob:
    return periodic.PeriodicJob(
        identifier="web.purge_throttle_counters",
        interval=dt.timedelta(minutes=15),
        run=purge_expired,
    )
