# SPDX-License-Identifier: AGPL-3.0-or-later
"""Issued invoices and their lines are frozen in the database (CGI art. 242 nonies A).

An invoice row exists only once issued: it can never be deleted, and an UPDATE that touches its
content (number, dates, customer, buyer, amounts, VAT) is refused; settlement columns may move.
A charge is free until it is on an invoice; from then on it is a frozen invoice line.
"""

from django.db import migrations

from encaisse.invoicing.triggers import (
    INVOICE_FROZEN_COLUMNS_0002,
    drop_frozen_triggers,
    install_frozen_triggers,
)


def install(apps, schema_editor):
    install_frozen_triggers(schema_editor, INVOICE_FROZEN_COLUMNS_0002)


def uninstall(apps, schema_editor):
    drop_frozen_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
