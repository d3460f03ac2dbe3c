# SPDX-License-Identifier: AGPL-3.0-or-later
"""Creating, finding and revoking API keys.

A key reads ``enc_<prefix>_<secret>``: the 8-character prefix finds the row (and lets staff name a
key without holding it), the secret is 43 URL-safe characters from :mod:`secrets` (256 bits). Only
``sha256(full key)`` is stored and it is compared in constant time, so neither a database dump nor
response timing reveals a usable key.

A key is made with the scopes it needs (never a default: forgetting them is refused) and an
optional expiry; past it, the key is refused like an unknown one. Its last use is written at most
once a minute (:data:`LAST_USE_RESOLUTION`), by one guarded UPDATE, so a busy key does not turn
every request into a write on its row.

>>> parse("enc_1a2b3c4d_" + "x" * 32)
'1a2b3c4d'
>>> parse("enc_short_" + "x" * 32) is None
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Iterable

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.exceptions import NotFound, ValidationError

from .models import ApiKey, Scope

logger = logging.getLogger(__name__)
ALL_SCOPES = "all"
LAST_USE_RESOLUTION = dt.timedelta(seconds=60)
KEY_PATTERN = re.compile(r"^enc_([a-z0-9]{8})_([A-Za-z0-9_-]{32,128})$")
PREFIX_LENGTH = 8
SECRET_BYTES = 32
# Compared against when the prefix is unknown, so an unknown and a wrong key take the same time.
_DUMMY_HASH = hashlib.sha256(b"encaisse: no such key").hexdigest()


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def parse(raw_key: str) -> str | None:
    """The prefix of a well-formed key, or ``None`` for anything else."""
    match = KEY_PATTERN.match(raw_key or "")
    return match[1] if match else None


def _new_key() -> tuple[str, str]:
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    return prefix, f"enc_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"


def scope_list() -> str:
    """The scopes a key may be given, for error messages and help texts."""
    return ", ".join([*Scope.values, ALL_SCOPES])


def clean_scopes(values: Iterable[str]) -> list[str]:
    """The sorted, distinct scopes named by ``values`` (``all``: every scope); none is refused."""
    names = {value.strip().lower() for value in values if value.strip()}
    if not names:
        raise ValidationError(
            _("An API key needs at least one scope: %(scopes)s."), scopes=scope_list()
        )
    unknown = names - {*Scope.values, ALL_SCOPES}
    if unknown:
        raise ValidationError(
            _("Unknown API key scope “%(scope)s”; the scopes are: %(scopes)s."),
            scope=sorted(unknown)[0],
            scopes=scope_list(),
        )
    return sorted(Scope.values if ALL_SCOPES in names else names)


def _clean_expiry(expires_at: dt.datetime | None) -> dt.datetime | None:
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError(_("An API key's expiry must be in the future."))
    return expires_at


def create_api_key(
    *,
    name: str,
    scopes: Iterable[str],
    created_by: str,
    actor: Actor,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; return it and the full key, which is shown once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationError(_("An API key needs a name saying who uses it."))
    scope_values = clean_scopes(scopes)
    expires_at = _clean_expiry(expires_at)
    for _attempt in range(5):  # 32-bit prefixes may collide; a new draw fixes it
        prefix, raw_key = _new_key()
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    name=name[:100],
                    prefix=prefix,
                    key_hash=hash_key(raw_key),
                    created_by=created_by[:150],
                    scopes=scope_values,
                    expires_at=expires_at,
                )
                audit.record(
                    "encaisse.api_key.created",
                    actor=actor,
                    obj=key,
                    name=key.name,
                    prefix=prefix,
                    scopes=scope_values,
                    expires_at=expires_at.isoformat() if expires_at else None,
                )
        except IntegrityError:
            continue
        return key, raw_key
    raise RuntimeError("could not draw a free API key prefix")


def authenticate(raw_key: str) -> ApiKey | None:
    """The active key matching ``raw_key`` (its use recorded), or ``None``.

    ``None`` for a malformed, unknown, wrong, revoked or expired key alike.
    """
    prefix = parse(raw_key)
    now = timezone.now()
    usable = ApiKey.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True
    )
    key = usable.filter(prefix=prefix).first() if prefix else None
    expected = key.key_hash if key is not None else _DUMMY_HASH
    matches = hmac.compare_digest(hash_key(raw_key or ""), expected)
    if not matches or key is None:
        return None
    record_use(key, now)
    return key


def record_use(key: ApiKey, now: dt.datetime) -> bool:
    """Set ``last_used_at`` unless it was set less than a minute ago (``True``: this call did).

    The row just read tells whether to write at all (most requests do not, which on SQLite spares
    them the database-wide write lock); the UPDATE's own condition settles concurrent requests.
    """
    cutoff = now - LAST_USE_RESOLUTION
    if key.last_used_at is not None and key.last_used_at >= cutoff:
        return False
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=cutoff)
    try:
        with transaction.atomic():
            updated = ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)
    except OperationalError:
        # SQLite's one write lock held by a long billing chunk: last use is a hint for staff,
        # not worth failing the request over; the next request past the minute retries.
        logger.warning("last use of API key %s not recorded: database busy", key.prefix)
        return False
    if updated:
        key.last_used_at = now
    return bool(updated)


def get_by_prefix(prefix: str) -> ApiKey:
    value = prefix.strip()
    if value.startswith("enc_"):
        value = value[4:].split("_", 1)[0]
    try:
        return ApiKey.objects.get(prefix=value)
    except ApiKey.DoesNotExist as exc:
        raise NotFound(_("No API key with prefix %(prefix)s."), prefix=prefix) from exc


def revoke_api_key(key: ApiKey, *, actor: Actor, reason: str = "") -> ApiKey:
    """Revoke a key for good: the next request made with it gets 401."""
    with transaction.atomic():
        now = timezone.now()
        if ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now) != 1:
            raise ValidationError(
                _("The API key %(prefix)s is already revoked."), prefix=key.prefix
            )
        audit.record(
            "encaisse.api_key.revoked",
            actor=actor,
            obj=key,
            reason=reason,
            name=key.name,
            prefix=key.prefix,
            scopes=key.scopes,
        )
    key.refresh_from_db()
    return key
