# SPDX-License-Identifier: AGPL-3.0-or-later
"""PostgreSQL: a reference whose parent is not written yet is checked again at COMMIT.

See ``encaisse.core.integrity``: the statement checks of ``invoicing.0004`` and ``ledger.0006``
now defer a missing parent to COMMIT instead of refusing the statement (Django's ``INITIALLY
DEFERRED`` semantics), so that a billing chunk can write its charges and entries before it takes
the gapless invoice numbers. The functions are replaced in place; nothing else changes.
"""

from importlib import import_module

from django.db import migrations

from encaisse.core.integrity import check_per_statement


def _references():
    ledger = import_module("encaisse.ledger.migrations.0006_references_checked_per_statement")
    invoicing = import_module("encaisse.invoicing.migrations.0004_references_checked_per_statement")
    yield from ((child, column, parent, False) for child, column, parent in ledger.REFERENCES)
    yield from invoicing.REFERENCES


def deferred(apps, schema_editor):
    for child, column, parent, on_update in _references():
        check_per_statement(schema_editor, child, column, parent, on_update=on_update)


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0004_references_checked_per_statement"),
        ("ledger", "0006_references_checked_per_statement"),
    ]
    # Backwards: the deferred checks stay; they refuse everything the immediate ones refused.
    operations = [migrations.RunPython(deferred, migrations.RunPython.noop)]
