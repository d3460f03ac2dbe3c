# SPDX-License-Identifier: AGPL-3.0-or-later
"""The database keeps the versions of each customer's billing identity (``BillingIdentity``).

Why triggers rather than the customer services: an invoice must show the buyer as it was when it
was issued (CGI art. 242 nonies A), and the billing run takes each customer's *latest* version
(the highest id) without comparing fields. That is only right if no change of a printed field can
skip writing a version — not the admin, a data migration, a shell or raw SQL. A trigger on
``customers_customer`` writes the version in the same statement as the change, on both engines:

- after an INSERT, the customer's first version;
- after an UPDATE that changes a printed field (:data:`~.models.IDENTITY_FIELDS`), a new one.

PostgreSQL runs them once per statement over the transition tables (a bulk insert of customers
costs one ``INSERT … SELECT``); SQLite has row triggers only. The versions themselves are
append-only (``core.immutability``). On SQLite a migration that rebuilds ``customers_customer``
drops its triggers: it must call :func:`install_identity_triggers` again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from encaisse.core.immutability import drop_triggers, forbid_changes

from .models import IDENTITY_FIELDS

CUSTOMER = "customers_customer"
IDENTITY = "customers_billingidentity"
#: The printed fields as migration 0003 created the table: what 0003 and 0006 write and compare,
#: whatever the model's :data:`IDENTITY_FIELDS` become later (a migration that adds one passes
#: its own list to :func:`install_identity_triggers`).
IDENTITY_FIELDS_0003 = (
    "number",
    "name",
    "kind",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "vat_number",
    "siret",
)


def _values(alias: str, fields: Sequence[str]) -> str:
    return ", ".join(f"{alias}.{name}" for name in fields)


def _changed(old: str, new: str, distinct: str, fields: Sequence[str]) -> str:
    return " OR ".join(f"{old}.{name} {distinct} {new}.{name}" for name in fields)


def _sqlite(schema_editor: Any, fields: Sequence[str]) -> None:
    columns, values = ", ".join(fields), _values("NEW", fields)
    insert = f"INSERT INTO {IDENTITY} (customer_id, {columns}) VALUES (NEW.id, {values});"
    schema_editor.execute(
        f"CREATE TRIGGER {CUSTOMER}_identity_created AFTER INSERT ON {CUSTOMER} BEGIN {insert} END;"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {CUSTOMER}_identity_changed AFTER UPDATE ON {CUSTOMER} "
        f"WHEN {_changed('OLD', 'NEW', 'IS NOT', fields)} BEGIN {insert} END;"
    )


def _postgresql(schema_editor: Any, fields: Sequence[str]) -> None:
    columns, values = ", ".join(fields), _values("n", fields)
    created = f"INSERT INTO {IDENTITY} (customer_id, {columns}) SELECT n.id, {values}"
    schema_editor.execute(
        f"""CREATE OR REPLACE FUNCTION encaisse_identity_created() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {created} FROM new_rows n ORDER BY n.id;
    RETURN NULL;
END
$$;"""
    )
    schema_editor.execute(
        f"""CREATE OR REPLACE FUNCTION encaisse_identity_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {created} FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE {_changed("o", "n", "IS DISTINCT FROM", fields)} ORDER BY n.id;
    RETURN NULL;
END
$$;"""
    )
    schema_editor.execute(
        f"CREATE TRIGGER {CUSTOMER}_identity_created AFTER INSERT ON {CUSTOMER} "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION encaisse_identity_created()"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {CUSTOMER}_identity_changed AFTER UPDATE ON {CUSTOMER} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION encaisse_identity_changed()"
    )


def install_identity_triggers(schema_editor: Any, fields: Sequence[str] = IDENTITY_FIELDS) -> None:
    """(Re)install the version-writing triggers and make the versions append-only.

    A migration passes the printed fields of the tables as it leaves them."""
    drop_identity_triggers(schema_editor)
    if schema_editor.connection.vendor == "postgresql":
        _postgresql(schema_editor, fields)
    else:
        _sqlite(schema_editor, fields)
    forbid_changes(schema_editor, IDENTITY)


def drop_identity_triggers(schema_editor: Any) -> None:
    on_pg = schema_editor.connection.vendor == "postgresql"
    for event in ("created", "changed"):
        name = f"{CUSTOMER}_identity_{event}"
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {name}" + (f" ON {CUSTOMER}" if on_pg else "")
        )
    drop_triggers(schema_editor, IDENTITY)


def record_current_identities(schema_editor: Any, fields: Sequence[str]) -> None:
    """A version for every customer whose latest one (if any) differs from its current fields:
    run by migrations, for customers that existed before the triggers (and after a migration
    had to write older versions)."""
    distinct = "IS DISTINCT FROM" if schema_editor.connection.vendor == "postgresql" else "IS NOT"
    schema_editor.execute(
        f"INSERT INTO {IDENTITY} (customer_id, {', '.join(fields)}) "
        f"SELECT c.id, {_values('c', fields)} FROM {CUSTOMER} c LEFT JOIN {IDENTITY} i ON i.id = "
        f"(SELECT MAX(l.id) FROM {IDENTITY} l WHERE l.customer_id = c.id) "
        f"WHERE i.id IS NULL OR {_changed('i', 'c', distinct, fields)} ORDER BY c.id"
    )
