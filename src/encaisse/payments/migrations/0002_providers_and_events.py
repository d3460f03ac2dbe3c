# SPDX-License-Identifier: AGPL-3.0-or-later
"""Payments ready for providers: a top-up has no invoice, a payment names its provider (the
former ``method``), its state machine gains requires_action, refunded and disputed, partial
refunds are counted; provider events are stored before they are handled.

Existing rows stay valid: ``method`` becomes ``provider`` unchanged, nothing is refunded yet,
their states keep their meaning, and the in-flight constraint still covers ``pending``.
"""

import django.db.models.deletion
from django.db import migrations, models

import encaisse.core.fields

STATUSES = [
    ("pending", "In progress"),
    ("requires_action", "Waiting for the customer"),
    ("succeeded", "Succeeded"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
    ("refunded", "Refunded"),
    ("disputed", "Disputed"),
]


def refuse_duplicate_references(apps, schema_editor):
    """The new (provider, reference) constraint would fail on duplicates: say which, clearly."""
    Payment = apps.get_model("payments", "Payment")
    seen = {}
    for pk, provider, ref in Payment.objects.exclude(external_ref="").values_list(
        "pk", "provider", "external_ref"
    ):
        if (provider, ref) in seen:
            raise RuntimeError(
                f"payments {seen[provider, ref]} and {pk} share the provider reference "
                f"{provider}:{ref}; correct one before migrating"
            )
        seen[provider, ref] = pk


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0001_initial"),
        ("payments", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="payment", name="payment_one_in_flight_per_invoice"),
        migrations.RenameField(model_name="payment", old_name="method", new_name="provider"),
        migrations.AlterField(
            model_name="payment",
            name="provider",
            field=models.CharField(max_length=40, verbose_name="provider"),
        ),
        migrations.AlterField(
            model_name="payment",
            name="invoice",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="payments",
                to="invoicing.invoice",
            ),
        ),
        migrations.AddField(
            model_name="payment",
            name="currency",
            field=models.CharField(default="EUR", max_length=3, verbose_name="currency"),
        ),
        migrations.AddField(
            model_name="payment",
            name="refunded_amount",
            field=encaisse.core.fields.CentsField(default=0, verbose_name="refunded"),
        ),
        migrations.AddField(
            model_name="payment",
            name="top_up",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="ledger.ledgertransaction",
                verbose_name="top-up",
            ),
        ),
        migrations.AlterField(
            model_name="payment",
            name="status",
            field=models.CharField(
                choices=STATUSES, default="pending", max_length=20, verbose_name="status"
            ),
        ),
        migrations.RunPython(refuse_duplicate_references, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ("pending", "requires_action"))),
                fields=("invoice",),
                name="payment_one_in_flight_per_invoice",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("external_ref", ""), _negated=True),
                fields=("provider", "external_ref"),
                name="payment_provider_reference",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("refunded_amount__gte", 0), ("refunded_amount__lte", models.F("amount"))
                ),
                name="payment_refunded_within_amount",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", [value for value, _label in STATUSES])),
                name="payment_status_known",
            ),
        ),
        migrations.CreateModel(
            name="InboundEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("provider", models.CharField(max_length=40, verbose_name="provider")),
                ("event_id", models.CharField(max_length=255, verbose_name="event id")),
                ("event_type", models.CharField(max_length=100, verbose_name="event type")),
                (
                    "object_ref",
                    models.CharField(blank=True, max_length=120, verbose_name="object reference"),
                ),
                ("payload", models.JSONField(verbose_name="payload")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("received", "Received"),
                            ("processed", "Processed"),
                            ("failed", "Failed"),
                            ("ignored", "Ignored"),
                        ],
                        default="received",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("error", models.TextField(blank=True, verbose_name="error")),
                ("attempts", models.PositiveIntegerField(default=0, verbose_name="attempts")),
                (
                    "claimed_until",
                    models.DateTimeField(blank=True, null=True, verbose_name="claimed until"),
                ),
                ("received_at", models.DateTimeField(auto_now_add=True, verbose_name="received")),
                (
                    "processed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="processed"),
                ),
                (
                    "payment",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="payments.payment",
                    ),
                ),
            ],
            options={
                "verbose_name": "provider event",
                "verbose_name_plural": "provider events",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("provider", "event_id"), name="inbound_event_once"
                    ),
                ],
                "indexes": [
                    models.Index(
                        condition=models.Q(("status__in", ["received", "failed"])),
                        fields=["status", "received_at"],
                        name="inbound_event_to_handle",
                    ),
                ],
            },
        ),
    ]
