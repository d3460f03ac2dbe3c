# SPDX-License-Identifier: AGPL-3.0-or-later
"""Gapless number allocation (see :class:`encaisse.core.models.NumberSequence`)."""

from __future__ import annotations

from django.db import connection

from .models import NumberSequence


def allocate(name: str, count: int = 1) -> range:
    """Reserve ``count`` consecutive numbers of sequence ``name`` and return them.

    Must run inside the transaction that stores the numbered objects, so that a rollback releases
    the numbers too. The sequence row stays locked until that transaction ends: issuers of the same
    series are serialised, which is what a gapless, chronological series needs.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("allocate() must run inside the transaction that uses the numbers")
    if count < 1:
        raise ValueError("count must be positive")
    NumberSequence.objects.get_or_create(name=name)
    table = NumberSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_value = last_value + %s WHERE name = %s RETURNING last_value",
            [count, name],
        )
        (last,) = cursor.fetchone()
    return range(last - count + 1, last + 1)
