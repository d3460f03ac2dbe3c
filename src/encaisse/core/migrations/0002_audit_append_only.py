# SPDX-License-Identifier: AGPL-3.0-or-later
"""The audit log is append-only, even in raw SQL (ledger-and-reliability.md §6, S7)."""

from django.db import migrations

from encaisse.core.immutability import drop_triggers, forbid_changes


def install(apps, schema_editor):
    forbid_changes(schema_editor, "core_auditlog")


def uninstall(apps, schema_editor):
    drop_triggers(schema_editor, "core_auditlog")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
