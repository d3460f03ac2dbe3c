# SPDX-License-Identifier: AGPL-3.0-or-later
"""Creating, finding and revoking API keys.

A key reads ``enc_<prefix>_<secret>``: the 8-character prefix finds the row (and lets staff name a
key without holding it), the secret is 43 URL-safe characters from :mod:`secrets` (256 bits). Only
``sha256(full key)`` is stored and it is compared in constant time, so neither a database dump nor
response timing reveals a usable key.

>>> parse("enc_1a2b3c4d_" + "x" * 32)
'1a2b3c4d'
>>> parse("enc_short_" + "x" * 32) is None
True
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.exceptions import NotFound, ValidationError

from .models import ApiKey

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


def create_api_key(*, name: str, created_by: str, actor: Actor) -> tuple[ApiKey, str]:
    """Create a key; return it and the full key, which is shown once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationError(_("An API key needs a name saying who uses it."))
    for _attempt in range(5):  # 32-bit prefixes may collide; a new draw fixes it
        prefix, raw_key = _new_key()
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    name=name[:100],
                    prefix=prefix,
                    key_hash=hash_key(raw_key),
                    created_by=created_by[:150],
                )
                audit.record(
                    "encaisse.api_key.created", actor=actor, obj=key, name=key.name, prefix=prefix
                )
        except IntegrityError:
            continue
        return key, raw_key
    raise RuntimeError("could not draw a free API key prefix")


def authenticate(raw_key: str) -> ApiKey | None:
    """The active key matching ``raw_key``, or ``None`` (malformed, unknown, wrong or revoked)."""
    prefix = parse(raw_key)
    key = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first() if prefix else None
    expected = key.key_hash if key is not None else _DUMMY_HASH
    matches = hmac.compare_digest(hash_key(raw_key or ""), expected)
    return key if matches and key is not None else None


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
        )
    key.refresh_from_db()
    return key
