# SPDX-License-Identifier: AGPL-3.0-or-later
"""The audit log in the back-office: who did what to which object, read-only.

Rows are written by ``core.audit.record``, one per staff or system action, inside the action's
transaction: they are the trail of who did what, so nobody edits or deletes them here, superusers
included.
"""

from __future__ import annotations

from django.contrib import admin

from encaisse.core.models import AuditLog

from .readonly import ReadOnlyAdmin


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "actor_label", "object_type", "object_id", "reason")
    list_filter = ("action", "actor_kind", "object_type")
    search_fields = ("action", "object_id", "actor_label", "reason")
    date_hierarchy = "created_at"
