# SPDX-License-Identifier: AGPL-3.0-or-later
"""Entries and journal transactions can be neither updated nor deleted, even in raw SQL."""

from django.db import migrations

from encaisse.core.immutability import drop_triggers, forbid_changes

TABLES = ("ledger_entry", "ledger_ledgertransaction")


def install(apps, schema_editor):
    for table in TABLES:
        forbid_changes(schema_editor, table)


def uninstall(apps, schema_editor):
    for table in TABLES:
        drop_triggers(schema_editor, table)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
