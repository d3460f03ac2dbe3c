# SPDX-License-Identifier: AGPL-3.0-or-later
"""Payments in flight (card, SEPA debit…) in the back-office: read-only.

A payment's status moves only through ``payments.services`` (confirm, fail), each transition
audited; the admin shows them. Money received by hand is recorded from the customer's page
("Record a payment"), which credits the prepaid balance through the same services.
"""

from __future__ import annotations

from django.contrib import admin

from encaisse.payments.models import Payment

from .readonly import ReadOnlyAdmin


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "invoice",
        "customer",
        "provider",
        "amount",
        "status",
        "external_ref",
    )
    list_filter = ("status", "provider")
    search_fields = ("invoice__number", "customer__number", "customer__name", "external_ref")
    list_select_related = ("invoice", "customer")
    date_hierarchy = "created_at"
