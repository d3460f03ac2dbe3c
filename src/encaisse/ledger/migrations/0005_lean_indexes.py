# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fewer indexes to write at each posting, and the append-only triggers installed again.

On SQLite altering a field rebuilds the table, which drops its triggers; on PostgreSQL they
become AFTER triggers (core.immutability.forbid_changes says why).
"""

import django.db.models.deletion
from django.db import migrations, models

from encaisse.core.immutability import drop_triggers, forbid_changes

TABLES = ("ledger_entry", "ledger_ledgertransaction")


def reinstall(apps, schema_editor):
    for table in TABLES:
        drop_triggers(schema_editor, table)
        forbid_changes(schema_editor, table)


def noop(apps, schema_editor):
    """The triggers of 0002 stay in place when going back."""


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_panel_login"),
        ("invoicing", "0003_lean_indexes"),
        ("ledger", "0004_account_fillfactor"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ledgertransaction",
            name="idempotency_key",
            field=models.CharField(max_length=200, verbose_name="idempotency key"),
        ),
        migrations.AlterField(
            model_name="ledgertransaction",
            name="reverses",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reversals",
                to="ledger.ledgertransaction",
                verbose_name="reverses",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgertransaction",
            constraint=models.UniqueConstraint(
                fields=("idempotency_key",), name="ledger_txn_idempotency_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgertransaction",
            constraint=models.UniqueConstraint(
                condition=models.Q(("reverses__isnull", False)),
                fields=("reverses",),
                name="ledger_txn_reversed_once",
            ),
        ),
        migrations.RunPython(reinstall, noop),
    ]
