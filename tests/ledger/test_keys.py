# SPDX-License-Identifier: AGPL-3.0-or-later
"""Idempotency keys: one spelling per kind of movement, in Python and in the SQL of bulk paths."""

from __future__ import annotations

import doctest

import pytest
from django.db import connection

from encaisse.ledger import keys


def test_doctests_hold():
    assert doctest.testmod(keys).failed == 0


@pytest.mark.django_db
@pytest.mark.parametrize("invoice_id", [1, 42, 9_876_543_210])
def test_the_sql_key_of_an_issuance_is_spelled_as_the_python_one(invoice_id):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {keys.invoice_issued_sql('x.id')} FROM (SELECT %s AS id) x", [invoice_id]
        )
        (in_sql,) = cursor.fetchone()
    assert in_sql == keys.invoice_issued(invoice_id)


def test_a_key_too_long_for_its_column_is_refused():
    with pytest.raises(ValueError, match="longer than 200"):
        keys.top_up("card", "x" * 200)
