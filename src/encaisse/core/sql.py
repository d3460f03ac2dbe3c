# SPDX-License-Identifier: AGPL-3.0-or-later
"""Small helpers for the set-based SQL of bulk paths (table names, per-engine placeholders)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, models


def table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def json_param() -> str:
    """Placeholder for a JSON value sent as text (PostgreSQL needs an explicit cast to jsonb)."""
    return "%s::jsonb" if connection.vendor == "postgresql" else "%s"


def for_update() -> str:
    """Row-lock suffix; SQLite has a single writer (transaction_mode=IMMEDIATE) and no row locks."""
    return " FOR UPDATE" if connection.vendor == "postgresql" else ""


def db_date(value: dt.date | str) -> Any:
    if isinstance(value, str):
        return value
    return connection.ops.adapt_datefield_value(value)


def db_datetime(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)
