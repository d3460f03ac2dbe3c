# SPDX-License-Identifier: AGPL-3.0-or-later
"""``Idempotency-Key`` for the money-moving POSTs, with Stripe's semantics (reliability doc §2.1).

- The first request with a key runs; its status and body are stored and **replayed** to every
  retry with the same key and the same request (method, path, canonical JSON body), including
  business errors (a 404 or 422 a service raised). Nothing runs a second time.
- The same key with a **different** request is refused (422 ``idempotency_key_reused``).
- A request colliding with one still running under the same key gets **409**
  (``idempotency_in_progress``) and may retry with the same key.

These operations touch only our database, so the record and the work share **one** database
transaction: a crash leaves neither, and the retry simply runs. The record is inserted
``in_progress`` first and turned ``completed`` before commit; a committed ``in_progress`` row can
only come from a future multi-phase operation and is answered with 409 too. Concurrent requests
with one key never both run: on PostgreSQL the second fails to take a transaction-scoped advisory
lock on the key (409) — or, past that, on the unique (API key, key) index; SQLite has one writer
(``BEGIN IMMEDIATE``), so the second waits and then replays.

Not stored, hence re-run on retry: requests that fail schema validation (nothing started), and
409 or 5xx outcomes (transient: storing them would make the key useless). Schema errors and
server errors change nothing: a 500 rolls the whole transaction back. Records are kept at least
24 hours; ``encaisse apikey purge-idempotency`` removes older ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from encaisse.core.exceptions import EncaisseError, ValidationError

from .errors import IdempotencyInProgress, IdempotencyKeyReused, business_error_body
from .models import ApiKey, IdempotencyRecord, IdempotencyStatus
from .responses import Outcome

HEADER = "Idempotency-Key"
MIN_RETENTION = dt.timedelta(hours=24)
CONFLICT = 409


class _Unstored(Exception):
    """Rolls back the record (and nothing else exists) when an outcome must not be replayed."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome


def canonical_body(body: bytes) -> bytes:
    """JSON with sorted keys and no spacing, so formatting differences are the same request."""
    if not body.strip():
        return b""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def request_hash(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (
        (request.method or "").encode(),
        request.path.encode(),
        canonical_body(request.body),
    ):
        digest.update(part)
        digest.update(b"\n")
    return digest.hexdigest()


def lock_id(api_key: ApiKey, key: str) -> int:
    """The 64-bit PostgreSQL advisory lock number of (API key, idempotency key)."""
    digest = hashlib.sha256(f"{api_key.pk}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _try_lock(api_key: ApiKey, key: str) -> None:
    """PostgreSQL: refuse at once (409) while another transaction holds this key."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id(api_key, key)])
        (locked,) = cursor.fetchone()
    if not locked:
        raise IdempotencyInProgress()


def _replay(record: IdempotencyRecord, digest: str) -> Outcome:
    if record.request_hash != digest:
        raise IdempotencyKeyReused()
    if record.status != IdempotencyStatus.COMPLETED or record.response_status is None:
        raise IdempotencyInProgress()
    return Outcome(record.response_status, record.response_body, replayed=True)


def _claim(api_key: ApiKey, key: str, digest: str) -> IdempotencyRecord | Outcome:
    """Insert the ``in_progress`` record, or return the replay of the one already there."""
    _try_lock(api_key, key)
    existing = (
        IdempotencyRecord.objects.select_for_update().filter(api_key=api_key, key=key).first()
    )
    if existing is not None:
        return _replay(existing, digest)
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(api_key=api_key, key=key, request_hash=digest)
    except IntegrityError as exc:  # a concurrent twin committed between our read and insert
        raise IdempotencyInProgress() from exc


def _execute(operation: Callable[[], Outcome]) -> Outcome:
    """Run the operation in a savepoint; a business error undoes it and becomes the outcome."""
    try:
        with transaction.atomic():
            return operation()
    except EncaisseError as exc:
        return Outcome(exc.http_status, business_error_body(exc))


def _replayable(status: int) -> bool:
    """2xx and 4xx are final answers; a 409 or a 5xx says "try again", so it is not kept."""
    return status < 500 and status != CONFLICT


def run_once(request: HttpRequest, key: str, operation: Callable[[], Outcome]) -> Outcome:
    """Run ``operation`` at most once per (API key, ``key``) and return its (replayed) outcome."""
    api_key: ApiKey = request.auth  # type: ignore[attr-defined]
    digest = request_hash(request)
    try:
        with transaction.atomic():
            claimed = _claim(api_key, key, digest)
            if isinstance(claimed, Outcome):
                return claimed
            outcome = _execute(operation)
            if not _replayable(outcome.status):
                raise _Unstored(outcome)
            claimed.status = IdempotencyStatus.COMPLETED
            claimed.response_status = outcome.status
            claimed.response_body = outcome.body
            claimed.completed_at = timezone.now()
            claimed.save(
                update_fields=["status", "response_status", "response_body", "completed_at"]
            )
    except _Unstored as unstored:
        return unstored.outcome
    return outcome


def purge_records(*, older_than: dt.timedelta) -> int:
    """Delete records older than ``older_than`` (at least 24 h: clients may retry for a day)."""
    if older_than < MIN_RETENTION:
        raise ValidationError(_("Idempotency keys are kept at least 24 hours."))
    cutoff = timezone.now() - older_than
    deleted, _details = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
