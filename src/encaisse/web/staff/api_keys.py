# SPDX-License-Identifier: AGPL-3.0-or-later
"""API keys in the back-office: read-only, because keys are created and revoked by
``encaisse apikey`` (which shows the key once and writes the audit log), never edited."""

from __future__ import annotations

from django.contrib import admin

from encaisse.api.models import ApiKey

from .readonly import ReadOnlyAdmin


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ("name", "prefix", "created_at", "created_by", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix")
    fields = ("name", "prefix", "created_at", "created_by", "revoked_at")
    readonly_fields = fields
