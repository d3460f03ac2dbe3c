# SPDX-License-Identifier: AGPL-3.0-or-later
"""API keys in the back-office: read-only, because keys are created and revoked by
``encaisse apikey`` (which shows the key once and writes the audit log), never edited.

The list shows what each key may do (its scopes), when it expires and when it was last used, so
staff can spot an over-powered, stale or dormant key and revoke it."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from encaisse.api.models import ApiKey, Scope

from .readonly import ReadOnlyAdmin


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "prefix",
        "scope_list",
        "state",
        "expires_at",
        "last_used_at",
        "created_at",
        "created_by",
        "revoked_at",
    )
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("name", "prefix")
    fields = list_display
    readonly_fields = fields

    @admin.display(description=_("scopes"))
    def scope_list(self, key: ApiKey) -> str:
        labels = [f"{scope}: {Scope(scope).label}" for scope in key.scopes if scope in Scope.values]
        return "; ".join(labels) or "—"

    @admin.display(description=_("state"))
    def state(self, key: ApiKey) -> str:
        return str(key.state.label)
