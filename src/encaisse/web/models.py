# SPDX-License-Identifier: AGPL-3.0-or-later
"""State of the web front-end that must be shared by every web process: the sign-in throttle."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ThrottleCounter(models.Model):
    """Attempts counted for one key (a login, a client address, an e-mail) in one scope.

    One row per (scope, key), incremented by a single ``INSERT … ON CONFLICT DO UPDATE …
    RETURNING`` (see :mod:`encaisse.web.throttle`), so every web process and machine shares the
    count and concurrent attempts each get their own number. The window starts at the first
    attempt and ends at ``expires_at``; the next attempt after it starts a new window on the same
    row. Rows left after their window are removed by the worker's periodic pass.
    """

    scope = models.CharField(_("scope"), max_length=32)
    key = models.CharField(_("key"), max_length=254)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    expires_at = models.DateTimeField(_("window ends at"))

    class Meta:
        verbose_name = _("throttle counter")
        verbose_name_plural = _("throttle counters")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="throttle_counter_scope_key"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="throttle_counter_expiry")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}: {self.attempts}"
