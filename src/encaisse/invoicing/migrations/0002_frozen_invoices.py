# SPDX-License-Identifier: AGPL-3.0-or-later
"""Issued invoices and their lines are frozen in the database (CGI art. 242 nonies A).

An invoice row exists only once issued: it can never be deleted, and an UPDATE that touches its
content (number, dates, customer, buyer, amounts, VAT) is refused; settlement columns may move.
A charge is free until it is on an invoice; from then on it is a frozen invoice line.
"""

from django.db import migrations

from encaisse.core.immutability import drop_triggers, forbid_changes
from encaisse.invoicing.models import CHARGE_FROZEN_COLUMNS, INVOICE_FROZEN_COLUMNS


def install(apps, schema_editor):
    forbid_changes(schema_editor, "invoicing_invoice", frozen_columns=INVOICE_FROZEN_COLUMNS)
    forbid_changes(
        schema_editor,
        "invoicing_charge",
        frozen_columns=CHARGE_FROZEN_COLUMNS,
        only_when="OLD.invoice_id IS NOT NULL",
    )


def uninstall(apps, schema_editor):
    drop_triggers(schema_editor, "invoicing_invoice")
    drop_triggers(schema_editor, "invoicing_charge")


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
