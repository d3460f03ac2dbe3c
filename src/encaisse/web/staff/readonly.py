# SPDX-License-Identifier: AGPL-3.0-or-later
"""Read-only admin classes: records that the back-office shows and never writes.

Ledger rows, issued invoices, payments and the audit log are records that the law (Code de
commerce L123-22, CGI art. 242 nonies A) and the ledger's invariants forbid to edit or delete, so
their admin classes refuse add, change and delete for everyone, superusers included. Staff actions
that move money are separate forms that call the services (see :mod:`encaisse.web.staff.views`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


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
