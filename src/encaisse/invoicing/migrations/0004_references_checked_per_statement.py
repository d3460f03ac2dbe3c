# SPDX-License-Identifier: AGPL-3.0-or-later
"""PostgreSQL: the foreign keys that issuing an invoice writes, checked once per statement.

See ``encaisse.core.integrity``. A charge's invoice is set when it is invoiced (an UPDATE), so that
reference is checked on UPDATE too. SQLite keeps its native foreign keys.
"""

from django.db import migrations

from encaisse.core.integrity import check_per_row, check_per_statement

REFERENCES = (
    ("invoicing_invoice", "customer_id", "customers_customer", False),
    ("invoicing_invoice", "billing_run_id", "invoicing_billingrun", False),
    ("invoicing_charge", "invoice_id", "invoicing_invoice", True),
)


def per_statement(apps, schema_editor):
    for child, column, parent, on_update in REFERENCES:
        check_per_statement(schema_editor, child, column, parent, on_update=on_update)


def per_row(apps, schema_editor):
    for child, column, parent, _ in REFERENCES:
        check_per_row(schema_editor, child, column, parent)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0003_lean_indexes"), ("customers", "0002_panel_login")]
    operations = [migrations.RunPython(per_statement, per_row)]
