# SPDX-License-Identifier: AGPL-3.0-or-later
"""Entries' amounts in whole cents; accounts' balances in whole cents within ±10^17
(``core.money.MAX_STORED``).

On SQLite, where arithmetic past 2^63 silently turns into floating point, this refuses the float
instead of storing it (``core.fields.WholeUnits``). SQLite adds a CHECK by rebuilding the table,
which drops its triggers: they are installed again, as migrations 0005 and 0007 left them.
"""

from decimal import Decimal

from django.db import migrations, models

from encaisse.core.immutability import drop_triggers, forbid_changes

ACCOUNT_FROZEN_COLUMNS_0007 = ("id", "code", "kind", "customer_id", "currency", "normal_sign")


def reinstall_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    drop_triggers(schema_editor, "ledger_entry")
    forbid_changes(schema_editor, "ledger_entry")
    drop_triggers(schema_editor, "ledger_account")
    forbid_changes(schema_editor, "ledger_account", frozen_columns=ACCOUNT_FROZEN_COLUMNS_0007)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_billing_identity"),
        ("ledger", "0007_account_trigger_update_of"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="account",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("balance__whole_units", True),
                    ("balance__gte", Decimal("-1000000000000000.00")),
                    ("balance__lte", Decimal("1000000000000000.00")),
                ),
                name="account_balance_bounded",
            ),
        ),
        migrations.AddConstraint(
            model_name="entry",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__whole_units", True)), name="entry_amount_whole_cents"
            ),
        ),
        migrations.RunPython(reinstall_sqlite_triggers, reinstall_sqlite_triggers),
    ]
