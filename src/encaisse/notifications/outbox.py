# SPDX-License-Identifier: AGPL-3.0-or-later
"""The e-mail outbox: claim in a transaction, send after COMMIT, mark in another one.

No network call inside a database transaction (docs/architecture.md): on SQLite an open write
transaction holds the database-wide write lock, so a mail server that stalls for its timeout
would stall every payment meanwhile; on PostgreSQL it would hold row locks as long. Each e-mail
therefore goes through three steps, none of which talks to the network while a transaction is
open:

1. **Add** (:func:`add`, :func:`add_all`): the cause writes a ``pending`` row, unique by its key
   (``invoice_issued:42``), so the same cause, however often its task runs, makes one row.
2. **Claim** (:func:`_claim`): a short transaction takes one due row (``pending`` and due, or
   ``sending`` whose claim expired), skipping rows another sender holds (``SKIP LOCKED`` on
   PostgreSQL; SQLite has one writer, whose ``BEGIN IMMEDIATE`` serialises claims), sets it
   ``sending``, counts the attempt and stores the claim deadline in ``next_attempt_at``, COMMIT.
3. **Send, then mark**: render and send outside any transaction, then one UPDATE marks the row
   ``sent``; a failure stores the error, and the row is due again after a bounded backoff
   (:func:`retry_delay`), or ``failed`` after the last attempt: it stays, visible, for staff.

Guarantee: **at least once, never lost**. A sender that crashes after claiming leaves a
``sending`` row that is due again once its claim deadline passes; one that crashes between
sending and marking (or whose claim expired while the mail server stalled) sends the e-mail
again. Two senders never hold the same row at once, so concurrent passes on several processes
and machines send each e-mail once in the normal case.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from encaisse.customers.models import Customer

from .messages import render
from .models import (
    OPEN_STATUSES,
    Notification,
    NotificationKind,
    NotificationStatus,
    notification_key,
)

logger = logging.getLogger(__name__)

#: Defaults of the ``ENCAISSE_NOTIFICATION_*`` settings (read when used, so tests can change them).
MAX_ATTEMPTS = 10
RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 3600
#: Far above the mail timeout (10 s): a live sender never sees its claim expire.
CLAIM_SECONDS = 300
#: A batch stops after this many failures in a row: the server is down, the rest waits unclaimed
#: for a later pass instead of each costing a mail timeout and an attempt now.
MAX_FAILURES_IN_A_ROW = 3
ERROR_LENGTH = 2000
FAILURES = (NotificationStatus.PENDING, NotificationStatus.FAILED)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, f"ENCAISSE_NOTIFICATION_{name}", default))


def retry_delay(attempts: int) -> dt.timedelta:
    """Wait before attempt ``attempts + 1``: doubling from a minute, at most an hour.

    >>> [int(retry_delay(n).total_seconds()) for n in (1, 2, 3, 7, 8, 20)]
    [60, 120, 240, 3600, 3600, 3600]
    """
    base = _setting("RETRY_SECONDS", RETRY_SECONDS)
    ceiling = _setting("MAX_RETRY_SECONDS", MAX_RETRY_SECONDS)
    return dt.timedelta(seconds=min(base * 2 ** min(attempts - 1, 30), ceiling))


@dataclass(frozen=True)
class Pending:
    """An e-mail to add to the outbox: of ``kind``, about ``cause_id``, once per ``key``."""

    customer: Customer
    kind: NotificationKind
    cause_id: int
    qualifiers: tuple[object, ...] = ()

    @property
    def key(self) -> str:
        return notification_key(self.kind, self.cause_id, *self.qualifiers)

    def row(self, now: dt.datetime) -> Notification:
        return Notification(
            key=self.key,
            kind=self.kind,
            customer=self.customer,
            cause_id=self.cause_id,
            recipient=self.customer.email,
            next_attempt_at=now,
        )


def add(pending: Pending) -> Notification:
    """Add one e-mail to the outbox; the existing row if its key is taken (a retried task)."""
    note, _ = Notification.objects.get_or_create(
        key=pending.key, defaults=_fields(pending.row(timezone.now()))
    )
    return note


def _fields(row: Notification) -> dict[str, object]:
    names = ("kind", "customer", "cause_id", "recipient", "next_attempt_at")
    return {name: getattr(row, name) for name in names}


def add_all(pending: Sequence[Pending]) -> list[int]:
    """Add many e-mails in one INSERT (a billing chunk's), skipping keys already there; the ids
    of the rows of all these keys, in the order given."""
    now = timezone.now()
    Notification.objects.bulk_create([p.row(now) for p in pending], ignore_conflicts=True)
    keys = [p.key for p in pending]
    ids = dict(Notification.objects.filter(key__in=keys).values_list("key", "pk"))
    return [ids[key] for key in keys]


def _due(candidates: QuerySet[Notification], now: dt.datetime) -> QuerySet[Notification]:
    return candidates.filter(status__in=OPEN_STATUSES, next_attempt_at__lte=now)


def _claim(candidates: QuerySet[Notification]) -> Notification | None:
    """Take the first due row among ``candidates`` for this sender, in a short transaction."""
    now = timezone.now()
    with transaction.atomic():
        note = (
            _due(candidates, now)
            .select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "pk")
            .first()
        )
        if note is None:
            return None
        note.status = NotificationStatus.SENDING
        note.attempts += 1
        note.next_attempt_at = now + dt.timedelta(seconds=_setting("CLAIM_SECONDS", CLAIM_SECONDS))
        note.save(update_fields=["status", "attempts", "next_attempt_at"])
    return note


def _mark_sent(note: Notification, subject: str) -> None:
    # Unconditional: it left, whatever another sender did with the row meanwhile.
    Notification.objects.filter(pk=note.pk).exclude(status=NotificationStatus.SENT).update(
        status=NotificationStatus.SENT,
        subject=subject[:200],
        sent_at=timezone.now(),
        next_attempt_at=None,
        last_error="",
    )


def _ours(note: Notification) -> QuerySet[Notification]:
    """The row while this sender's claim holds (a later claim counted another attempt)."""
    return Notification.objects.filter(
        pk=note.pk, status=NotificationStatus.SENDING, attempts=note.attempts
    )


def _mark_failed(note: Notification, error: BaseException) -> NotificationStatus:
    text = f"{type(error).__name__}: {error}"[:ERROR_LENGTH]
    if note.attempts >= _setting("MAX_ATTEMPTS", MAX_ATTEMPTS):
        _ours(note).update(status=NotificationStatus.FAILED, next_attempt_at=None, last_error=text)
        logger.error("E-mail %s failed for good after %s attempts: %s", note, note.attempts, text)
        return NotificationStatus.FAILED
    retry_at = timezone.now() + retry_delay(note.attempts)
    _ours(note).update(status=NotificationStatus.PENDING, next_attempt_at=retry_at, last_error=text)
    logger.warning("E-mail %s not sent (attempt %s), retried later: %s", note, note.attempts, text)
    return NotificationStatus.PENDING


def _send(note: Notification, mailer: BaseEmailBackend) -> NotificationStatus:
    """Render and send a claimed row, then mark it: its new status. Outside any transaction."""
    try:
        message = render(note)
        if message is None:
            _ours(note).update(status=NotificationStatus.CANCELLED, next_attempt_at=None)
            return NotificationStatus.CANCELLED
        email = EmailMessage(message.subject, message.body, to=[note.recipient])
        mailer.open()  # once per batch: a no-op while the connection is open
        if mailer.send_messages([email]) != 1:
            raise RuntimeError("the mail backend did not send the message")
    except Exception as error:
        with contextlib.suppress(Exception):
            mailer.close()  # a broken connection is opened anew for the next row
        return _mark_failed(note, error)
    _mark_sent(note, message.subject)
    return NotificationStatus.SENT


def _send_claims(claims: Iterable[Notification | None]) -> int:
    """Send the rows claimed one by one from ``claims`` over one mail connection, until it ends
    (a None) or the server looks down; the number sent."""
    sent = failures_in_a_row = 0
    mailer = mailers.default
    try:
        for note in claims:
            if note is None:
                break
            status = _send(note, mailer)
            sent += status == NotificationStatus.SENT
            failures_in_a_row = failures_in_a_row + 1 if status in FAILURES else 0
            if failures_in_a_row >= MAX_FAILURES_IN_A_ROW:
                break
    finally:
        with contextlib.suppress(Exception):
            mailer.close()
    return sent


def deliver(notification_ids: Sequence[int]) -> int:
    """Send these rows if they are due (the task of their cause, right after adding them)."""
    rows = Notification.objects.all()
    claims = (_claim(rows.filter(pk=pk)) for pk in notification_ids)
    return _send_claims(note for note in claims if note is not None)


def send_pending(*, limit: int = 100) -> int:
    """The worker's pass: send up to ``limit`` due rows (retries, rows a crashed sender left,
    rows whose task never ran), oldest due first; the number sent. Safe on several workers at
    once: each claims different rows."""
    rows = Notification.objects.all()
    return _send_claims(_claim(rows) for _ in range(limit))
