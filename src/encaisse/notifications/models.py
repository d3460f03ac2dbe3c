# SPDX-License-Identifier: AGPL-3.0-or-later
"""One row per e-mail we mean to send, keyed by what caused it, so a retried task sends it once."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    INVOICE_ISSUED = "invoice_issued", _("Invoice issued")
    PAYMENT_RECEIVED = "payment_received", _("Payment received")
    BALANCE_LOW = "balance_low", _("Balance low")


class Notification(models.Model):
    """An e-mail to a customer. ``key`` names its cause (``invoice_issued:42``): unique.

    The row is written before the message is sent and marked sent after, under a row lock, so two
    workers running the same task send it once; a crash between sending and marking can send it
    again (e-mail is at-least-once), never lose it silently.
    """

    key = models.CharField(_("key"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    recipient = models.EmailField(_("recipient"))
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["customer", "created_at"], name="notification_customer")]

    def __str__(self) -> str:
        return self.key
