# SPDX-License-Identifier: AGPL-3.0-or-later
"""Small helpers for the set-based SQL of bulk paths (table names, per-engine placeholders)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, models


def table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def db_date(value: dt.date | str) -> Any:
    if isinstance(value, str):
        return value
    return connection.ops.adapt_datefield_value(value)


def db_datetime(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


# --- Expressions that differ between the engines (bulk paths compute in SQL, not per row in Python)


def _pg() -> bool:
    return connection.vendor == "postgresql"


def least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if _pg() else f"MIN({a}, {b})"


def greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if _pg() else f"MAX({a}, {b})"


def cents_text(expr: str) -> str:
    """Integer cents → ``'12.34'``, as ``str(core.money.from_cents(x))`` (statement run with params:
    ``%%`` is a literal ``%``)."""
    sign = f"CASE WHEN {expr} < 0 THEN '-' ELSE '' END"
    if _pg():
        units = f"(ABS({expr}) / 100)::text || '.' || LPAD((ABS({expr}) %% 100)::text, 2, '0')"
        return f"({sign} || {units})"
    return f"({sign} || printf('%%d.%%02d', ABS({expr}) / 100, ABS({expr}) %% 100))"


def zero_padded(expr: str, width: int) -> str:
    """``f"{n:0{width}d}"`` for n ≥ 0 (wider numbers keep all their digits)."""
    if _pg():
        return f"LPAD(({expr})::text, GREATEST({width}, LENGTH(({expr})::text)), '0')"
    return f"printf('%%0{width}d', {expr})"


def json_object(pairs: dict[str, str]) -> str:
    """A JSON object built by the database from SQL expressions (keys are trusted literals)."""
    args = ", ".join(f"'{key}', {value}" for key, value in pairs.items())
    return f"jsonb_build_object({args})" if _pg() else f"json_object({args})"


def json_array(item: str, source: str, order: str) -> str:
    """Scalar subquery: JSON array of ``item`` over the rows of ``source`` (``FROM … WHERE …``),
    in ``order``; SQLite aggregates in the order of an ordered subquery."""
    if _pg():
        return f"(SELECT jsonb_agg({item} ORDER BY {order}) {source})"
    return f"(SELECT json_group_array({item}) FROM (SELECT * {source} ORDER BY {order}))"


def temp_table(name: str, columns: str, *, clustered: bool = False) -> str:
    """DDL of a per-connection scratch table, emptied by every commit on PostgreSQL.

    ``{key}`` in ``columns`` is the type of a single-column integer primary key: ``INTEGER`` on
    SQLite, where it then is the rowid (no separate index to maintain), ``bigint`` on PostgreSQL;
    ``{json}`` the type a ``JSONField`` has (``jsonb``; text on SQLite). ``clustered`` stores the
    rows in primary-key order on SQLite (``WITHOUT ROWID``: one B-tree instead of a table and its
    key's index, read in key order without a sort); PostgreSQL has no such option.
    """
    pg = _pg()
    columns = columns.format(key="bigint" if pg else "INTEGER", json="jsonb" if pg else "TEXT")
    suffix = " ON COMMIT DELETE ROWS" if pg else " WITHOUT ROWID" if clustered else ""
    return f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns}){suffix}"


_SEQUENCES: dict[str, str] = {}


def new_id(model: type[models.Model], ordinal: str) -> str:
    """SQL expression of a fresh primary key for the row ``ordinal`` (1, 2, …) of a bulk insert.

    Bulk paths take their ids before they insert, so that child rows can be written without
    reading the parents back. PostgreSQL: ``nextval()`` of the column's sequence per row (ids may
    have gaps, they are not legal numbers). SQLite has one writer: the caller's IMMEDIATE
    transaction holds the write lock, so the ids after the highest one ever given (AUTOINCREMENT
    keeps it in ``sqlite_sequence``) are free until it commits; call this inside that transaction.
    """
    name = model._meta.db_table
    with connection.cursor() as cursor:
        if _pg():
            if name not in _SEQUENCES:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table(model)])
                (_SEQUENCES[name],) = cursor.fetchone()
            return f"nextval('{_SEQUENCES[name]}')"
        cursor.execute(
            f"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
            f"COALESCE((SELECT MAX(id) FROM {table(model)}), 0))",
            [name],
        )
        (last,) = cursor.fetchone()
    return f"({int(last)} + {ordinal})"
