# SPDX-License-Identifier: AGPL-3.0-or-later
"""The account's append-only trigger fires only for an UPDATE that sets a frozen column.

``core.immutability.forbid_changes`` now declares it ``UPDATE OF`` the frozen columns, so a
balance update no longer runs it for every row (same refusals: a column changes only if set).
"""

from django.db import migrations

from encaisse.core.immutability import drop_triggers, forbid_changes

# The account's frozen columns as this migration leaves the table (the model's may move on).
ACCOUNT_FROZEN_COLUMNS_0007 = ("id", "code", "kind", "customer_id", "currency", "normal_sign")


def reinstall(apps, schema_editor):
    drop_triggers(schema_editor, "ledger_account")
    forbid_changes(schema_editor, "ledger_account", frozen_columns=ACCOUNT_FROZEN_COLUMNS_0007)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_references_checked_per_statement")]
    operations = [migrations.RunPython(reinstall, migrations.RunPython.noop)]
