# SPDX-License-Identifier: AGPL-3.0-or-later
"""The invoice's and charge's append-only triggers fire only for an UPDATE that sets a frozen
column (``core.immutability.forbid_changes`` now declares them ``UPDATE OF`` those columns): an
invoice's payment status or PDF, set after issuance, no longer runs them. Same refusals."""

from importlib import import_module

from django.db import migrations

from encaisse.invoicing.triggers import install_frozen_triggers

FROZEN_0006 = import_module(
    "encaisse.invoicing.migrations.0006_shared_buyer_and_single_vat_rate"
).INVOICE_FROZEN_COLUMNS_0006


def reinstall(apps, schema_editor):
    install_frozen_triggers(schema_editor, FROZEN_0006)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0007_charge_invoice_partial_index")]
    operations = [migrations.RunPython(reinstall, migrations.RunPython.noop)]
