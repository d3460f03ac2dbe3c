# SPDX-License-Identifier: AGPL-3.0-or-later
"""State of the web front-end that must be shared by every web process: failed sign-ins."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LoginFailure(models.Model):
    """One failed panel sign-in, counted per login name and per client address.

    Kept in the database (not in a process-local cache) so the limit holds however many web
    processes and machines serve the panel; rows older than the lock-out window are purged.
    """

    username = models.CharField(_("login"), max_length=254)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("failed sign-in")
        verbose_name_plural = _("failed sign-ins")
        indexes = [
            models.Index(fields=["username", "at"], name="login_failure_user"),
            models.Index(fields=["ip_address", "at"], name="login_failure_ip"),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"
