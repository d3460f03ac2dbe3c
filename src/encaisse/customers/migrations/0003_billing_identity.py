# SPDX-License-Identifier: AGPL-3.0-or-later
"""Versions of the customers' billing identity, written by the database (customers.identity).

Every existing customer gets its first version here; invoicing 0006 points the issued invoices at
the version that matches the buyer they print.
"""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models

from encaisse.customers.identity import (
    IDENTITY_FIELDS_0003,
    drop_identity_triggers,
    install_identity_triggers,
    record_current_identities,
)


def install(apps, schema_editor):
    install_identity_triggers(schema_editor, IDENTITY_FIELDS_0003)
    record_current_identities(schema_editor, IDENTITY_FIELDS_0003)


def uninstall(apps, schema_editor):
    drop_identity_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_panel_login"),
    ]

    operations = [
        migrations.CreateModel(
            name="BillingIdentity",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.CharField(max_length=16, verbose_name="customer number")),
                ("name", models.CharField(max_length=200, verbose_name="name")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("individual", "Individual"),
                            ("company", "Company"),
                            ("public_body", "Public body"),
                        ],
                        max_length=16,
                        verbose_name="kind",
                    ),
                ),
                ("address_line1", models.CharField(max_length=140, verbose_name="street")),
                (
                    "address_line2",
                    models.CharField(blank=True, max_length=140, verbose_name="address complement"),
                ),
                ("postal_code", models.CharField(max_length=16, verbose_name="postal code")),
                ("city", models.CharField(max_length=70, verbose_name="town")),
                ("country", models.CharField(max_length=2, verbose_name="country")),
                (
                    "vat_number",
                    models.CharField(blank=True, max_length=20, verbose_name="VAT number"),
                ),
                ("siret", models.CharField(blank=True, max_length=14, verbose_name="SIRET")),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        verbose_name="valid from",
                    ),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="identities",
                        to="customers.customer",
                        verbose_name="customer",
                    ),
                ),
            ],
            options={
                "verbose_name": "billing identity",
                "verbose_name_plural": "billing identities",
                "indexes": [
                    models.Index(fields=["customer", "id"], name="billing_identity_latest")
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
