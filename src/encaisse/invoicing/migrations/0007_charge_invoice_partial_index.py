# SPDX-License-Identifier: AGPL-3.0-or-later
"""A charge's invoice is indexed only once it has one (partial index ``charge_invoice``).

Uninvoiced charges are found through ``charge_uninvoiced``; in the plain index they sat under the
NULL key, which invoicing a charge had to delete before inserting its invoice's. On SQLite the
field change rebuilds the table, which drops its triggers: they are installed again (and the
statement checks of its invoice reference stay on PostgreSQL, where the table is not rebuilt).
"""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

from encaisse.invoicing.triggers import install_frozen_triggers

FROZEN_0006 = import_module(
    "encaisse.invoicing.migrations.0006_shared_buyer_and_single_vat_rate"
).INVOICE_FROZEN_COLUMNS_0006


def reinstall(apps, schema_editor):
    install_frozen_triggers(schema_editor, FROZEN_0006)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_billing_identity"),
        ("invoicing", "0006_shared_buyer_and_single_vat_rate"),
    ]

    operations = [
        migrations.AlterField(
            model_name="charge",
            name="invoice",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lines",
                to="invoicing.invoice",
                verbose_name="invoice",
            ),
        ),
        migrations.AddIndex(
            model_name="charge",
            index=models.Index(
                condition=models.Q(("invoice__isnull", False)),
                fields=["invoice"],
                name="charge_invoice",
            ),
        ),
        migrations.RunPython(reinstall, reinstall),
    ]
