# SPDX-License-Identifier: AGPL-3.0-or-later
"""Payments (top-ups and collections by a provider) and provider events in the back-office:
read-only.

A payment's status moves only through ``payments.transitions``, one audited service per
transition; the admin shows them, and the events as they were received and handled. Money
received by hand is recorded from the customer's page
("Record a payment"), which credits the prepaid balance through the same services.
"""

from __future__ import annotations

from django.contrib import admin

from encaisse.payments.models import InboundEvent, Payment

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
        "refunded_amount",
        "currency",
        "status",
        "external_ref",
    )
    list_filter = ("status", "provider")
    search_fields = ("invoice__number", "customer__number", "customer__name", "external_ref")
    list_select_related = ("invoice", "customer")
    date_hierarchy = "created_at"


@admin.register(InboundEvent)
class InboundEventAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "provider",
        "event_type",
        "event_id",
        "status",
        "attempts",
        "processed_at",
    )
    list_filter = ("status", "provider")
    search_fields = ("event_id", "object_ref")
    date_hierarchy = "received_at"
