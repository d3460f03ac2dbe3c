# SPDX-License-Identifier: AGPL-3.0-or-later
"""The ledger in the back-office: accounts, journal transactions and entries, read-only.

Entries and transactions are append-only (database triggers) and balances are a cache that only
``ledger.services`` writes under lock; nothing here offers a way to change them. A correction is
a reversing transaction posted by a service, never an edit.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from encaisse.ledger.models import Account, Entry, LedgerTransaction

from .readonly import ReadOnlyAdmin, ReadOnlyTabularInline


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("code", "kind", "customer", "currency", "balance", "floor", "entries_link")
    list_filter = ("kind", "currency")
    search_fields = ("code", "customer__number", "customer__name")
    list_select_related = ("customer",)
    readonly_fields = ("entries_link",)

    @admin.display(description=_("entries"))
    def entries_link(self, obj: Account) -> str:
        url = (
            reverse("admin:ledger_entry_changelist")
            + "?"
            + urlencode({"account__id__exact": obj.pk})
        )
        return format_html('<a href="{}">{}</a>', url, _("Movements"))


class EntryInline(ReadOnlyTabularInline):
    model = Entry
    fields = ("account", "amount", "currency")
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entry]:
        return super().get_queryset(request).select_related("account")


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "kind", "description", "customer", "invoice", "actor_label")
    list_filter = ("kind", "actor_kind")
    search_fields = ("idempotency_key", "description", "customer__number", "invoice__number")
    list_select_related = ("customer", "invoice")
    date_hierarchy = "created_at"
    inlines = (EntryInline,)


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "transaction", "account", "amount", "currency")
    list_filter = ("account__kind", "currency")
    search_fields = ("account__code", "transaction__description", "transaction__idempotency_key")
    list_select_related = ("transaction", "account")
    raw_id_fields = ("transaction", "account")
