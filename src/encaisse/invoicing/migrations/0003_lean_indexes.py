# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fewer indexes to write when invoices are issued, and the freezing triggers installed again.

On SQLite altering a field rebuilds the table, which drops its triggers; on PostgreSQL they
become AFTER triggers (core.immutability.forbid_changes says why).
"""

import django.db.models.deletion
from django.db import migrations, models

from encaisse.invoicing.triggers import INVOICE_FROZEN_COLUMNS_0002, install_frozen_triggers


def reinstall(apps, schema_editor):
    install_frozen_triggers(schema_editor, INVOICE_FROZEN_COLUMNS_0002)


def noop(apps, schema_editor):
    """The triggers of 0002 stay in place when going back."""


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_panel_login"),
        ("invoicing", "0002_frozen_invoices"),
    ]

    operations = [
        migrations.AlterField(
            model_name="charge",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="charges",
                to="customers.customer",
                verbose_name="customer",
            ),
        ),
        migrations.AlterField(
            model_name="charge",
            name="subscription",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="charges",
                to="invoicing.subscription",
            ),
        ),
        migrations.AlterField(
            model_name="invoice",
            name="credited_invoice",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="credit_notes",
                to="invoicing.invoice",
                verbose_name="credited invoice",
            ),
        ),
        migrations.AlterField(
            model_name="invoice",
            name="number",
            field=models.CharField(max_length=35, verbose_name="number"),
        ),
        migrations.AddIndex(
            model_name="charge",
            index=models.Index(
                condition=models.Q(("subscription__isnull", False)),
                fields=["subscription"],
                name="charge_subscription",
            ),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                condition=models.Q(("credited_invoice__isnull", False)),
                fields=["credited_invoice"],
                name="invoice_credit_notes",
            ),
        ),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.UniqueConstraint(fields=("number",), name="invoice_number_unique"),
        ),
        migrations.RunPython(reinstall, noop),
    ]
