# SPDX-License-Identifier: AGPL-3.0-or-later
"""Back-office building blocks: read-only admin classes and the audit log.

The Django admin is the staff back-office. It is *read-mostly* for money: ledger rows, issued
invoices, payments and the audit log are records that the law (Code de commerce L123-22, CGI art.
242 nonies A) and the ledger's invariants forbid to edit or delete, so their admin classes refuse
add, change and delete for everyone, superusers included. Staff actions that move money are
separate forms that call the services (see ``encaisse.web.admin_views``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import AuditLog

admin.site.site_header = _("Encaisse back-office")
admin.site.site_title = _("Encaisse")
admin.site.index_title = _("Customers, invoices and money")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Show records, never write them: no add, change or delete (nor the bulk delete action)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyTabularInline(admin.TabularInline):
    """Inline rows shown as a table, with no form to add, edit or delete them."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "actor_label", "object_type", "object_id", "reason")
    list_filter = ("action", "actor_kind", "object_type")
    search_fields = ("action", "object_id", "actor_label", "reason")
    date_hierarchy = "created_at"
