# SPDX-License-Identifier: AGPL-3.0-or-later
"""Cross-cutting models: the audit log and gapless number sequences."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .actors import ActorFields
from .immutability import AppendOnlyModel


class AuditLog(ActorFields, AppendOnlyModel):
    """Append-only trail of staff and system actions (who, when, what, why).

    Ledger transactions carry their own actor and reason (they are their own audit record); this
    table records everything else that matters: billing runs, staff corrections, API key changes.
    Rows are never updated or deleted (database triggers, see ``core.immutability``).
    """

    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    reason = models.TextField(_("reason"), blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


class NumberSequence(models.Model):
    """A gapless counter (invoice series per year, customer numbers).

    A number is taken by an ``UPDATE ... RETURNING`` inside the transaction that uses it: if that
    transaction rolls back, so does the counter, hence no gap (CGI art. 242 nonies A requires
    continuous invoice numbers). Concurrent issuers queue on the row lock.
    """

    name = models.CharField(_("name"), max_length=40, unique=True)
    last_value = models.BigIntegerField(_("last value"), default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self) -> str:
        return f"{self.name}={self.last_value}"
