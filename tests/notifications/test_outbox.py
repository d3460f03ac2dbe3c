# SPDX-License-Identifier: AGPL-3.0-or-later
"""The e-mail outbox: claimed in a transaction, sent after COMMIT, retried, never sent twice by
two passes, and never talking to the mail server while a transaction is open."""

from __future__ import annotations

import datetime as dt
import doctest
import smtplib
import time

import pytest
from django.core.mail.backends import locmem
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from encaisse.core import periodic
from encaisse.core.models import AuditLog
from encaisse.ledger.models import LedgerTransaction
from encaisse.notifications import models, outbox, services
from encaisse.notifications.models import Notification, NotificationKind, NotificationStatus
from encaisse.payments.services import record_top_up

#: Tests with threads commit for real on PostgreSQL; on SQLite see ``shared_database``.
ON_POSTGRESQL = connection.vendor == "postgresql"
DUMMY_TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class MailServer:
    """The test mail backend, made to fail as when the mail server drops the connection."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def down(self) -> None:
        def refuse(backend, messages):
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

        self.monkeypatch.setattr(locmem.EmailBackend, "send_messages", refuse)

    def up(self) -> None:
        self.monkeypatch.undo()


@pytest.fixture
def mail_server(monkeypatch) -> MailServer:
    return MailServer(monkeypatch)


def _backoff_elapsed(note: Notification) -> None:
    Notification.objects.filter(pk=note.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )


def _sessions_in_transaction() -> int:
    """PostgreSQL: the other sessions of the test database inside a transaction, idle (waiting
    for their client: here the sender, talking to the mail server). SQLite: 0, the top-up's time
    shows it there (a writer in a transaction holds the database-wide write lock)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
        )
        return int(cursor.fetchone()[0])


def _receipts_pending(customers, top_up) -> list[Notification]:
    """A payment receipt per customer, in the outbox, not sent yet (as if its task never ran)."""
    ids = [services.queue_payment_receipt(top_up(customer, "20.00")) for customer in customers]
    return list(Notification.objects.filter(pk__in=ids))


def test_doctests_of_the_outbox_hold():
    """The backoff doubles from a minute and stops at an hour; keys name kind, cause, month."""
    for module in (outbox, models):
        assert doctest.testmod(module).failed == 0


def test_a_failed_sending_is_retried_by_a_later_pass_and_sent_once(
    notifying, make_customer, top_up, mailoutbox, mail_server,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    mail_server.down()
    customer = make_customer(language="en")
    with django_capture_on_commit_callbacks(execute=True):
        txn = top_up(customer, "50.00", reference="VIR-42")  # its task tries at once, and fails
    note = Notification.objects.get(key=f"payment_received:{txn.pk}")
    assert (note.status, note.attempts, note.sent_at) == (NotificationStatus.PENDING, 1, None)
    assert note.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert note.next_attempt_at > timezone.now()
    assert outbox.send_pending() == 0  # not due before its backoff

    mail_server.up()
    _backoff_elapsed(note)
    assert outbox.send_pending() == 1
    assert outbox.send_pending() == 0
    [message] = mailoutbox
    assert message.subject == "Payment of €50.00 received"
    note.refresh_from_db()
    assert (note.status, note.attempts, note.last_error) == (NotificationStatus.SENT, 2, "")
    assert note.sent_at is not None and note.subject == message.subject


def test_after_its_last_attempt_an_email_is_failed_and_left_for_staff_to_retry(
    notifying, settings, make_customer, top_up, mailoutbox, mail_server, actor
):
    settings.ENCAISSE_NOTIFICATION_MAX_ATTEMPTS = 2
    mail_server.down()
    [note] = _receipts_pending([make_customer()], top_up)
    assert outbox.send_pending() == 0
    _backoff_elapsed(note)
    assert outbox.send_pending() == 0
    note.refresh_from_db()
    assert (note.status, note.attempts, note.next_attempt_at) == (
        NotificationStatus.FAILED,
        2,
        None,
    )
    assert note.last_error.startswith("SMTPServerDisconnected")

    mail_server.up()
    _backoff_elapsed(note)
    assert outbox.send_pending() == 0  # failed rows are not picked up again
    assert mailoutbox == []

    assert services.retry_failed_email(note, actor=actor, reason="mail server fixed")
    assert not services.retry_failed_email(note, actor=actor)  # pending now, not failed
    assert outbox.send_pending() == 1
    assert len(mailoutbox) == 1
    log = AuditLog.objects.get(action="encaisse.notification.retried")
    assert (log.object_id, log.reason) == (str(note.pk), "mail server fixed")


def test_a_row_left_by_a_crashed_sender_is_sent_once_its_claim_expires(
    notifying, make_customer, top_up, mailoutbox
):
    [note] = _receipts_pending([make_customer()], top_up)
    claimed = Notification.objects.filter(pk=note.pk)
    claimed.update(
        status=NotificationStatus.SENDING,
        attempts=1,
        next_attempt_at=timezone.now() + dt.timedelta(minutes=5),
    )
    assert outbox.send_pending() == 0  # another sender holds it (or crashed: we cannot tell yet)
    claimed.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    assert outbox.send_pending() == 1
    assert len(mailoutbox) == 1
    assert claimed.get().status == NotificationStatus.SENT


def test_a_pass_stops_when_the_mail_server_looks_down_and_leaves_the_rest_unclaimed(
    notifying, make_customer, top_up, mail_server
):
    mail_server.down()
    notes = _receipts_pending([make_customer() for _ in range(5)], top_up)
    assert outbox.send_pending() == 0
    attempts = sorted(
        Notification.objects.filter(pk__in=[n.pk for n in notes]).values_list("attempts", flat=True)
    )
    assert attempts == [0, 0, 1, 1, 1]  # three failures in a row: the other two were not tried


def test_a_warning_no_longer_true_when_sent_is_cancelled(
    notifying, make_customer, top_up, mailoutbox
):
    customer = make_customer()
    note = outbox.add(
        outbox.Pending(customer, NotificationKind.BALANCE_LOW, customer.pk, ("2026-11",))
    )
    assert outbox.send_pending() == 0  # no recurring charges: the balance is not running low
    note.refresh_from_db()
    assert note.status == NotificationStatus.CANCELLED
    assert mailoutbox == []


def test_the_outbox_pass_is_a_periodic_job_of_the_worker(
    notifying, make_customer, top_up, mailoutbox
):
    job = periodic.jobs.get("notifications.send_pending")
    _receipts_pending([make_customer(), make_customer()], top_up)
    assert periodic.run_job(job) == 2
    assert periodic.run_job(job) == 0
    assert len(mailoutbox) == 2


def test_nothing_leaves_while_notifications_are_off(settings, make_customer, top_up, mailoutbox):
    settings.ENCAISSE_EMAIL_NOTIFICATIONS = True
    _receipts_pending([make_customer()], top_up)
    settings.ENCAISSE_EMAIL_NOTIFICATIONS = False
    assert periodic.run_job(periodic.jobs.get("notifications.send_pending")) == 0
    assert mailoutbox == []


@pytest.mark.django_db(transaction=ON_POSTGRESQL)
def test_encaisse_worker_batch_sends_what_is_left_once(
    shared_database, notifying, settings, make_customer, top_up, mailoutbox, restore_signals
):
    settings.TASKS = DUMMY_TASKS  # the receipt waits in the outbox, its task never ran
    _receipts_pending([make_customer()], top_up)
    settings.TASKS = DATABASE_TASKS  # the worker only runs a database task backend
    call_command("worker", "--batch", "--no-startup-delay", verbosity=0)
    call_command("worker", "--batch", "--no-startup-delay", verbosity=0)
    assert len(mailoutbox) == 1
    assert Notification.objects.get().status == NotificationStatus.SENT


@pytest.mark.django_db(transaction=ON_POSTGRESQL)
def test_concurrent_passes_send_each_email_once(
    shared_database, notifying, settings, make_customer, top_up, mailoutbox, run_concurrently
):
    settings.TASKS = DUMMY_TASKS  # the receipts wait in the outbox for the passes
    notes = _receipts_pending([make_customer() for _ in range(12)], top_up)

    outcomes = run_concurrently([lambda: outbox.send_pending(limit=100)] * 3)

    assert [error for _, error in outcomes] == [None, None, None]
    assert sum(sent for sent, _ in outcomes) == 12
    assert sorted(m.to[0] for m in mailoutbox) == sorted(n.recipient for n in notes)
    assert set(Notification.objects.values_list("status", flat=True)) == {NotificationStatus.SENT}


@pytest.mark.django_db(transaction=ON_POSTGRESQL)
def test_a_stalled_mail_server_does_not_delay_a_concurrent_top_up(
    shared_database, notifying, settings, make_customer, top_up, actor, stalling_smtp,
    run_concurrently,
):  # fmt: skip
    """The sender holds no transaction while it waits for the mail server: on SQLite it would
    hold the database-wide write lock, and the top-up would wait the 5 s of the stall."""
    settings.TASKS = DATABASE_TASKS  # a top-up enqueues its e-mail as in production
    customer = make_customer(language="en")
    [note] = _receipts_pending([customer], top_up)
    settings.MAILERS = stalling_smtp.mailers

    def worker_pass() -> tuple[int, float]:
        started = time.monotonic()
        return outbox.send_pending(), time.monotonic() - started

    def top_up_meanwhile() -> tuple[float, int]:
        assert stalling_smtp.connected.wait(30), "the pass never reached the mail server"
        others_in_transaction = _sessions_in_transaction()
        started = time.monotonic()
        record_top_up(customer, amount="30.00", method="card", reference="pi_stall", actor=actor)
        return time.monotonic() - started, others_in_transaction

    (sent_and_duration, pass_error), (top_up, top_up_error) = run_concurrently(
        [worker_pass, top_up_meanwhile]
    )
    assert (pass_error, top_up_error) == (None, None)
    top_up_seconds, others_in_transaction = top_up
    assert top_up_seconds < 1.0
    assert others_in_transaction == 0
    sent, pass_seconds = sent_and_duration
    assert sent == 1 and pass_seconds >= 5.0  # the top-up did run during the stall
    assert LedgerTransaction.objects.filter(idempotency_key="topup:card:pi_stall").exists()
    [message] = stalling_smtp.messages
    assert b"Subject: Payment of" in message
    assert Notification.objects.get(pk=note.pk).status == NotificationStatus.SENT
