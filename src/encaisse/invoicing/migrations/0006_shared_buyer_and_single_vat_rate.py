# SPDX-License-Identifier: AGPL-3.0-or-later
"""An invoice refers to a version of its buyer and stores its VAT rate alone when it has one.

Before, every invoice carried two JSON documents: a copy of its buyer (name, address, VAT number,
SIRET) and its VAT breakdown. Building, checking and writing them was a fifth of the billing run
(docs/benchmarks.md). Now:

- ``buyer`` is a reference to the customer's billing identity current at issuance
  (``customers.BillingIdentity``, versions the database writes itself); each invoice issued before
  points at a version equal to the buyer it printed, written here when none was;
- ``vat_rate`` holds the rate of a single-rate invoice, whose base and VAT are its totals;
  ``vat_breakdown_rows`` the breakdown of the others (EN 16931 BG-23). Exactly one is set.

The data step walks the invoices by id in batches. It cannot be reversed: going back would need
the JSON copies rebuilt, which no earlier code reads any more.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import django.db.models.deletion
from django.db import migrations, models

import encaisse.core.fields
from encaisse.core.integrity import check_per_statement
from encaisse.customers.identity import IDENTITY_FIELDS_0003 as IDENTITY_FIELDS
from encaisse.customers.identity import record_current_identities
from encaisse.invoicing.triggers import drop_frozen_triggers, install_frozen_triggers

BATCH = 5000
#: The invoice's frozen columns as this migration leaves the table.
INVOICE_FROZEN_COLUMNS_0006 = (
    "number",
    "kind",
    "customer_id",
    "issue_date",
    "due_date",
    "period_start",
    "period_end",
    "currency",
    "total_excl_vat",
    "total_vat",
    "total_incl_vat",
    "vat_rate",
    "vat_breakdown_rows",
    "buyer_id",
    "credited_invoice_id",
    "billing_run_id",
)
REFERENCES = (("invoicing_invoice", "buyer_id", "customers_billingidentity", False),)


def _decoded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _known_identities(cursor: Any) -> dict[tuple[Any, ...], int]:
    cursor.execute(
        f"SELECT id, customer_id, {', '.join(IDENTITY_FIELDS)} FROM customers_billingidentity"
    )
    return {(row[1], *row[2:]): row[0] for row in cursor.fetchall()}


def _identity(cursor: Any, known: dict, customer_id: int, buyer: dict, created_at: Any) -> int:
    key = (customer_id, *(buyer.get(name) or "" for name in IDENTITY_FIELDS))
    if key not in known:
        columns = ", ".join(IDENTITY_FIELDS)
        cursor.execute(
            f"INSERT INTO customers_billingidentity (customer_id, {columns}, created_at) "
            f"VALUES ({', '.join(['%s'] * (len(IDENTITY_FIELDS) + 2))}) RETURNING id",
            [*key, created_at],
        )
        (known[key],) = cursor.fetchone()
    return known[key]


def _vat_columns(breakdown: list[dict[str, str]]) -> tuple[int | None, str | None]:
    if len(breakdown) == 1:
        return int(Decimal(breakdown[0]["rate"]) * 100), None
    return None, json.dumps(breakdown)


def split_buyer_and_vat(apps, schema_editor):
    """Point every invoice at its buyer's version and split its VAT breakdown."""
    drop_frozen_triggers(schema_editor)  # PostgreSQL: their WHEN refers to the dropped columns
    json_param = "%s::jsonb" if schema_editor.connection.vendor == "postgresql" else "%s"
    with schema_editor.connection.cursor() as cursor:
        known = _known_identities(cursor)
        last = 0
        while True:
            cursor.execute(
                "SELECT id, customer_id, buyer, vat_breakdown, created_at FROM invoicing_invoice "
                "WHERE id > %s ORDER BY id LIMIT %s",
                [last, BATCH],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            updates = []
            for pk, customer_id, buyer, breakdown, created_at in rows:
                identity = _identity(cursor, known, customer_id, _decoded(buyer), created_at)
                updates.append((identity, *_vat_columns(_decoded(breakdown)), pk))
            cursor.executemany(
                "UPDATE invoicing_invoice SET buyer_identity_id = %s, vat_rate = %s, "
                f"vat_breakdown_rows = {json_param} WHERE id = %s",
                updates,
            )
            last = rows[-1][0]
    # Versions written above for past buyers are newer than the customers' current ones.
    record_current_identities(schema_editor, IDENTITY_FIELDS)
    if schema_editor.connection.vendor == "postgresql":
        # Check the new rows' deferred foreign keys now: PostgreSQL refuses to ALTER a table
        # with trigger events pending, as the steps below do.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


def frozen_again(apps, schema_editor):
    install_frozen_triggers(schema_editor, INVOICE_FROZEN_COLUMNS_0006)
    for child, column, parent, on_update in REFERENCES:
        check_per_statement(schema_editor, child, column, parent, on_update=on_update)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_billing_identity"),
        ("invoicing", "0005_references_deferred_to_commit"),
    ]

    operations = [
        migrations.AddField(
            model_name="invoice",
            name="buyer_identity",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="customers.billingidentity",
                verbose_name="buyer",
            ),
        ),
        migrations.AddField(
            model_name="invoice",
            name="vat_rate",
            field=encaisse.core.fields.FixedDecimalField(
                blank=True, null=True, verbose_name="VAT rate (%)"
            ),
        ),
        migrations.AddField(
            model_name="invoice",
            name="vat_breakdown_rows",
            field=models.JSONField(blank=True, null=True, verbose_name="VAT breakdown"),
        ),
        migrations.RunPython(split_buyer_and_vat),
        migrations.RemoveField(model_name="invoice", name="buyer"),
        migrations.RemoveField(model_name="invoice", name="vat_breakdown"),
        migrations.RenameField(model_name="invoice", old_name="buyer_identity", new_name="buyer"),
        migrations.AlterField(
            model_name="invoice",
            name="buyer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="customers.billingidentity",
                verbose_name="buyer",
            ),
        ),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.CheckConstraint(
                condition=models.Q(vat_rate__isnull=False, vat_breakdown_rows__isnull=True)
                | models.Q(vat_rate__isnull=True, vat_breakdown_rows__isnull=False),
                name="invoice_vat_rate_or_breakdown",
            ),
        ),
        migrations.RunPython(frozen_again),
    ]
