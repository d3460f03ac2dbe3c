# SPDX-License-Identifier: AGPL-3.0-or-later
"""The e-mail outbox: one row per e-mail we mean to send, keyed by what caused it.

A row is written (claimed) before anything is sent, then sent after COMMIT by whoever claims it
next, then marked: see :mod:`encaisse.notifications.outbox` for the protocol and its guarantees.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    """What the e-mail says; also the name of its templates (``notifications/<kind>.txt``).

    ``invoice_issued`` covers credit notes too (an invoice of kind ``credit_note``: the templates
    switch on ``is_credit_note``)."""

    INVOICE_ISSUED = "invoice_issued", _("Invoice issued")
    PAYMENT_RECEIVED = "payment_received", _("Payment received")
    BALANCE_LOW = "balance_low", _("Balance low")


class NotificationStatus(models.TextChoices):
    """Where a row is in the outbox.

    ``pending`` → (claimed) ``sending`` → ``sent``; a failed attempt goes back to ``pending``
    with a later ``next_attempt_at``, or to ``failed`` after the last attempt (kept, visible, for
    staff to look at); ``cancelled`` when, at sending time, there is nothing left to say (the
    balance is no longer low)."""

    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


#: The states a sender may still claim (a ``sending`` row only once its claim has expired).
OPEN_STATUSES = (NotificationStatus.PENDING, NotificationStatus.SENDING)


def notification_key(kind: NotificationKind, cause_id: int, *qualifiers: object) -> str:
    """The unique key of an e-mail: its kind and cause (``invoice_issued:42``), plus what makes
    a recurring e-mail unique (``balance_low:7:2026-11``, at most one a month).

    >>> notification_key(NotificationKind.BALANCE_LOW, 7, "2026-11")
    'balance_low:7:2026-11'
    """
    return ":".join(str(part) for part in (kind.value, cause_id, *qualifiers))


class Notification(models.Model):
    """An e-mail to a customer in the outbox. ``key`` names its cause: unique, so the same cause
    claims one row however often its task runs.

    ``cause_id`` is the id of what the e-mail is about (the invoice or credit note, the top-up's
    journal transaction, the customer for a low balance): the message is rendered from it when
    it is sent, in the customer's language of that moment. ``next_attempt_at`` is when a
    ``pending`` row is due, and the claim deadline of a ``sending`` one: a sender that crashed
    leaves a row that becomes due again then.
    """

    key = models.CharField(_("key"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    cause_id = models.PositiveBigIntegerField(_("cause"))
    recipient = models.EmailField(_("recipient"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["customer", "created_at"], name="notification_customer"),
            # What a sender looks for: the few rows still to send, not the millions sent.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="notification_due",
            ),
        ]

    def __str__(self) -> str:
        return self.key
