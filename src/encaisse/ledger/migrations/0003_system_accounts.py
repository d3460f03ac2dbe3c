# SPDX-License-Identifier: AGPL-3.0-or-later
"""Open the provider's system accounts (revenue, bank, write-off, PSP clearing, VAT per rate).

They are locked last by every money path (``ledger.services.lock_accounts``): customers' accounts
first, then these shared ones, each by ascending id.
"""

from django.conf import settings
from django.db import migrations

SYSTEM = [("revenue", "revenue", -1), ("bank:main", "bank", 1), ("write_off", "write_off", 1)]
SYSTEM += [(f"psp_clearing:{m}", "psp_clearing", 1) for m in ("card", "paypal")]


def create(apps, schema_editor):
    account = apps.get_model("ledger", "Account")
    rows = SYSTEM + [
        (f"vat_collected:{rate:.2f}", "vat_collected", -1) for rate in settings.ENCAISSE_VAT_RATES
    ]
    for code, kind, sign in rows:
        account.objects.get_or_create(
            code=code,
            defaults={"kind": kind, "normal_sign": sign, "currency": settings.ENCAISSE_CURRENCY},
        )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_append_only_triggers")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
