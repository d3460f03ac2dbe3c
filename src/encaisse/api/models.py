# SPDX-License-Identifier: AGPL-3.0-or-later
"""API keys of the hosting platform and the idempotency records of its money-moving requests.

Only the SHA-256 of a key is stored: a stolen database dump gives no usable credential, and the
key is shown once, when it is created (``encaisse apikey create``). A key is never deleted, only
revoked, so the audit trail and the idempotency records keep pointing at it.

A key holds only the :class:`Scope` s it was given (least privilege: a key that reads balances
cannot credit an account), may expire, and remembers when it was last used so staff can tell a
dormant key from a live one before revoking it.

An :class:`IdempotencyRecord` remembers the first response to a request carrying an
``Idempotency-Key`` header, so a retry gets the same answer instead of a second execution
(ledger-and-reliability.md §2.1, invariant I6).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Scope(models.TextChoices):
    """What a key may do; each API operation needs exactly one (``auth.ApiKeyAuth(scope)``)."""

    READ = "read", _("read everything (every GET)")
    CUSTOMERS = "customers", _("create customers")
    CHARGES = "charges", _("create charges")
    INVOICES = "invoices", _("issue invoices")
    PAYMENTS = "payments", _("record money received")


class ApiKeyState(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("API key state", "active")
    EXPIRED = "expired", pgettext_lazy("API key state", "expired")
    REVOKED = "revoked", pgettext_lazy("API key state", "revoked")


class ApiKey(models.Model):
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(_("SHA-256 of the key"), max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.CharField(_("created by"), max_length=150, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    # A sorted list of Scope values: JSON rather than a PostgreSQL array so SQLite stores it too.
    # The default is no scope at all, so a key made without naming its scopes can do nothing.
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} (enc_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.state == ApiKeyState.ACTIVE

    @property
    def state(self) -> ApiKeyState:
        if self.revoked_at is not None:
            return ApiKeyState.REVOKED
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return ApiKeyState.EXPIRED
        return ApiKeyState.ACTIVE

    def has_scope(self, scope: Scope) -> bool:
        return scope in self.scopes


class IdempotencyStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")


class IdempotencyRecord(models.Model):
    """The first response to (API key, Idempotency-Key), replayed to every retry.

    ``request_hash`` is the SHA-256 of method, path and canonical JSON body: the same key sent with
    another request is refused rather than answered with an unrelated response.
    """

    api_key = models.ForeignKey(
        ApiKey, verbose_name=_("API key"), on_delete=models.PROTECT, related_name="+"
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    request_hash = models.CharField(_("request hash"), max_length=64)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=IdempotencyStatus.choices,
        default=IdempotencyStatus.IN_PROGRESS,
    )
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.JSONField(_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
