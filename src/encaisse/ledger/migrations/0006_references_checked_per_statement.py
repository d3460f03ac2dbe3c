# SPDX-License-Identifier: AGPL-3.0-or-later
"""PostgreSQL: the foreign keys of entries and journal transactions checked once per statement.

See ``encaisse.core.integrity``: same guarantee as the foreign keys, without a query and a row
lock per reference. SQLite keeps its native foreign keys. On both engines, accounts can no longer
be deleted or change what they are (``ACCOUNT_FROZEN_COLUMNS``): this also closes the one race a
statement-level check leaves open, a parent deleted by a transaction that cannot yet see the
entries another one is writing.
"""

from django.db import migrations

from encaisse.core.immutability import drop_triggers, forbid_changes
from encaisse.core.integrity import check_per_row, check_per_statement
from encaisse.ledger.models import ACCOUNT_FROZEN_COLUMNS

REFERENCES = (
    ("ledger_entry", "transaction_id", "ledger_ledgertransaction"),
    ("ledger_entry", "account_id", "ledger_account"),
    ("ledger_ledgertransaction", "customer_id", "customers_customer"),
    ("ledger_ledgertransaction", "invoice_id", "invoicing_invoice"),
)


def per_statement(apps, schema_editor):
    forbid_changes(schema_editor, "ledger_account", frozen_columns=ACCOUNT_FROZEN_COLUMNS)
    for child, column, parent in REFERENCES:
        check_per_statement(schema_editor, child, column, parent)


def per_row(apps, schema_editor):
    for child, column, parent in REFERENCES:
        check_per_row(schema_editor, child, column, parent)
    drop_triggers(schema_editor, "ledger_account")


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0005_lean_indexes"),
        ("invoicing", "0004_references_checked_per_statement"),
    ]
    operations = [migrations.RunPython(per_statement, per_row)]
