# SPDX-License-Identifier: AGPL-3.0-or-later
"""Database triggers that make money rows append-only, on SQLite and PostgreSQL alike.

The ORM refuses these writes too (see ``AppendOnlyQuerySet``), but raw SQL, a shell or a buggy
migration would not go through the ORM. Accounting records and issued invoices are never updated
or deleted (Code de commerce L123-22, CGI art. 242 nonies A): corrections are reversing entries and
credit notes. Migrations call :func:`forbid_changes` through ``RunPython``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.utils import IntegrityError

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION encaisse_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'encaisse: % on % is forbidden (append-only money records)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;
"""


def _sqlite_when(columns: Sequence[str], extra: str | None) -> str:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
    parts = [p for p in (f"({changed})" if columns else "", extra) if p]
    return f"WHEN {' AND '.join(parts)}" if parts else ""


def forbid_changes(
    schema_editor: Any,
    table: str,
    *,
    frozen_columns: Sequence[str] = (),
    only_when: str | None = None,
    allow_delete: bool = False,
) -> None:
    """Install triggers on ``table``.

    On SQLite a migration that rebuilds the table (most ``AlterField``) drops its triggers: such a
    migration must call this again. The immutability tests run on a freshly migrated database.

    PostgreSQL fires them AFTER the row is written: a BEFORE row trigger makes the executor lock
    each old row first (a WAL record per row, whether the trigger's WHEN holds or not), which the
    billing run's ``UPDATE`` of 1.5 M charges paid for nothing; raising in an AFTER trigger aborts
    the statement just the same. SQLite has no such cost and keeps BEFORE.

    Without ``frozen_columns`` every UPDATE is refused; with them, only an UPDATE that changes one
    of those columns is. ``only_when`` (an SQL condition on ``OLD``) narrows both rules, for
    instance to charges already on an invoice.

    With ``frozen_columns`` the update trigger is declared ``UPDATE OF`` them: a column can only
    change if the statement sets it, so an UPDATE that sets none of them (a balance, an invoice's
    payment status) does not fire it at all, where it would otherwise run for every row to
    compare the frozen values (a sub-program per row on SQLite: about 1 % of the billing run for
    the balances alone). Django's ``save()`` without ``update_fields`` sets every column: the
    ``WHEN`` still lets such an UPDATE through when the frozen values are unchanged.
    """
    vendor = schema_editor.connection.vendor
    cond = only_when
    statements: list[str] = []
    update_of = f"UPDATE OF {', '.join(frozen_columns)}" if frozen_columns else "UPDATE"
    if vendor == "sqlite":
        msg = f"encaisse: {table} rows are append-only"
        when_upd = _sqlite_when(frozen_columns, cond)
        statements.append(
            f"CREATE TRIGGER {table}_no_update BEFORE {update_of} ON {table} {when_upd} "
            f"BEGIN SELECT RAISE(ABORT, '{msg}'); END;"
        )
        if not allow_delete:
            when_del = f"WHEN {cond}" if cond else ""
            statements.append(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {when_del} "
                f"BEGIN SELECT RAISE(ABORT, '{msg}'); END;"
            )
    elif vendor == "postgresql":
        statements.append(PG_FUNCTION)
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in frozen_columns)
        upd = " AND ".join(p for p in (f"({changed})" if changed else "", cond or "") if p)
        statements.append(
            f"CREATE TRIGGER {table}_no_update AFTER {update_of} ON {table} FOR EACH ROW "
            f"{f'WHEN ({upd})' if upd else ''} EXECUTE FUNCTION encaisse_forbid_change();"
        )
        if not allow_delete:
            statements.append(
                f"CREATE TRIGGER {table}_no_delete AFTER DELETE ON {table} FOR EACH ROW "
                f"{f'WHEN ({cond})' if cond else ''} EXECUTE FUNCTION encaisse_forbid_change();"
            )
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"unsupported database vendor {vendor}")
    for sql in statements:
        schema_editor.execute(sql, None)


def drop_triggers(schema_editor: Any, table: str) -> None:
    vendor = schema_editor.connection.vendor
    for suffix in ("no_update", "no_delete"):
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix} ON {table};")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix};")


class AppendOnlyError(IntegrityError):
    """Raised by the ORM before the database would refuse the same change."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: post a correction")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: post a correction")


class AppendOnlyModel(models.Model):
    """Rows are written once. ``save()`` on an existing row and ``delete()`` raise."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only: post a correction")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only: post a correction")
