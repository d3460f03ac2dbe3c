# SPDX-License-Identifier: AGPL-3.0-or-later
"""Charges within ``core.money.MAX_AMOUNT``, invoice amounts (totals, paid, credited) in whole cents, and the customers a
billing run sets aside (issue 12: an overflowing customer no longer fails its whole chunk).

SQLite adds a CHECK by rebuilding the table, which drops its triggers: installed again as 0008
left them.
"""

from decimal import Decimal
from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

import encaisse.core.fields
from encaisse.invoicing.triggers import install_frozen_triggers

FROZEN_0006 = import_module(
    "encaisse.invoicing.migrations.0006_shared_buyer_and_single_vat_rate"
).INVOICE_FROZEN_COLUMNS_0006


def reinstall_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        install_frozen_triggers(schema_editor, FROZEN_0006)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_billing_identity"),
        ("invoicing", "0008_frozen_triggers_update_of"),
    ]

    operations = [
        migrations.CreateModel(
            name="BillingRunSetAside",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("total_too_large", "Invoice total above the maximum"),
                            ("no_accounts", "No prepaid or amount-due account"),
                        ],
                        max_length=20,
                        verbose_name="reason",
                    ),
                ),
                (
                    "total",
                    encaisse.core.fields.CentsField(
                        blank=True, null=True, verbose_name="total incl. VAT"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="set aside")),
            ],
            options={
                "verbose_name": "customer set aside",
                "verbose_name_plural": "customers set aside",
                "ordering": ["run", "customer"],
            },
        ),
        migrations.AddConstraint(
            model_name="charge",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("amount__whole_units", True),
                    ("amount__gte", Decimal("-1000000000.00")),
                    ("amount__lte", Decimal("1000000000.00")),
                ),
                name="charge_amount_bounded",
            ),
        ),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("total_excl_vat__whole_units", True),
                    ("total_vat__whole_units", True),
                    ("total_incl_vat__whole_units", True),
                    ("paid__whole_units", True),
                    ("credited__whole_units", True),
                ),
                name="invoice_amounts_whole_cents",
            ),
        ),
        migrations.AddField(
            model_name="billingrunsetaside",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="customers.customer",
                verbose_name="customer",
            ),
        ),
        migrations.AddField(
            model_name="billingrunsetaside",
            name="run",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="set_aside",
                to="invoicing.billingrun",
                verbose_name="billing run",
            ),
        ),
        migrations.AddConstraint(
            model_name="billingrunsetaside",
            constraint=models.UniqueConstraint(
                fields=("customer", "run"), name="billing_set_aside_once"
            ),
        ),
        migrations.RunPython(reinstall_sqlite_triggers, reinstall_sqlite_triggers),
    ]
