# SPDX-License-Identifier: AGPL-3.0-or-later
"""One rule decides an invoice's status; its SQL twin (set-based issuance) agrees with it."""

from __future__ import annotations

import doctest
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from encaisse.invoicing import status
from encaisse.invoicing.status import invoice_status, status_sql

cents = st.integers(min_value=0, max_value=10**12)


def test_doctests_hold():
    assert doctest.testmod(status).failed == 0


@pytest.mark.django_db
@settings(max_examples=60, deadline=None)
@given(total=cents, paid_share=st.integers(0, 100), credited_share=st.integers(0, 100))
def test_the_sql_form_decides_as_the_python_form(total, paid_share, credited_share):
    credited = total * credited_share // 100
    paid = (total - credited) * paid_share // 100
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {status_sql('t', 'p', 'c')} FROM (SELECT %s AS t, %s AS p, %s AS c) x",
            [total, paid, credited],
        )
        (in_sql,) = cursor.fetchone()
    in_python = invoice_status(
        total=Decimal(total) / 100, paid=Decimal(paid) / 100, credited=Decimal(credited) / 100
    )
    assert in_sql == in_python
