# SPDX-License-Identifier: AGPL-3.0-or-later
"""API keys get scopes, an optional expiry and their last use.

Keys that exist before this migration were all-powerful; they keep **every scope** (read,
customers, charges, invoices, payments) so that no platform breaks on upgrade. Operators should
replace them with keys limited to what each client needs (``encaisse apikey create --scope …``)
and revoke the old ones. Keys created afterwards get only the scopes named when they are made
(the column's default is no scope at all). Existing keys get no expiry.
"""

from django.db import migrations, models

# Frozen here rather than imported from the model, so the migration keeps its meaning if scopes
# are added later (a new scope must not be granted to old keys silently).
SCOPES_AT_UPGRADE = ["charges", "customers", "invoices", "payments", "read"]


def grant_every_scope_to_existing_keys(apps, schema_editor):
    apps.get_model("api", "ApiKey").objects.update(scopes=SCOPES_AT_UPGRADE)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="expires_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="expires"),
        ),
        migrations.AddField(
            model_name="apikey",
            name="last_used_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last used"),
        ),
        migrations.AddField(
            model_name="apikey",
            name="scopes",
            field=models.JSONField(blank=True, default=list, verbose_name="scopes"),
        ),
        migrations.RunPython(grant_every_scope_to_existing_keys, migrations.RunPython.noop),
    ]
