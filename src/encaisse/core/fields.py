# SPDX-License-Identifier: AGPL-3.0-or-later
"""Model fields that keep exact decimals as integers in the database (decisions.md §1).

``FixedDecimalField(places=2)`` stores ``Decimal("12.34")`` as the integer 1234 in a BIGINT column,
so sums and comparisons in SQL are exact on SQLite as on PostgreSQL. Raw SQL and ``F()`` expressions
see the integer; Python code sees the ``Decimal``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models.expressions import Combinable

from .money import MAX_STORED, MoneyError

#: :data:`~encaisse.core.money.MAX_STORED` cents, in euros (the unit of ``CentsField`` values).
MAX_STORED_CENTS = Decimal(MAX_STORED).scaleb(-2)


class FixedDecimalField(models.BigIntegerField):
    # Types seen by django-stubs: Decimal in Python whatever the integer storage.
    _pyi_private_set_type: Decimal | int | Combinable  # type: ignore[assignment]
    _pyi_private_get_type: Decimal  # type: ignore[assignment]

    def __init__(self, *args: Any, places: int = 2, **kwargs: Any) -> None:
        self.places = places
        self.scale = 10**places
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.places != 2:
            kwargs["places"] = self.places
        return name, path, args, kwargs

    def from_db_value(self, value: int | None, expression: Any, connection: Any) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) / self.scale).quantize(Decimal(1).scaleb(-self.places))

    def to_python(self, value: Any) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        if isinstance(value, float):
            raise MoneyError("float amounts are refused; use Decimal")
        return Decimal(str(value))

    def get_prep_value(self, value: Any) -> Any:
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if isinstance(value, float):
            raise MoneyError("float amounts are refused; use Decimal")
        scaled = Decimal(str(value)) * self.scale
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{value} has more than {self.places} decimals")
        return int(scaled)


class CentsField(FixedDecimalField):
    """An amount of money: a ``Decimal`` with 2 decimals, stored as integer cents."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("places", None)
        super().__init__(*args, places=2, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("places", None)
        return name, path, args, kwargs


@FixedDecimalField.register_lookup
class WholeUnits(models.Lookup):
    """``amount__whole_units=True``: the column holds an integer (SQLite), always true elsewhere.

    SQLite has no integer overflow error on arithmetic: ``balance + amount`` past 2^63 quietly
    becomes a float, and a float in a money column then rounds every later sum. ``x = CAST(x AS
    integer)`` refuses any non-integer (the overflowing floats included: they compare unequal to
    the clamped integer). A PostgreSQL ``bigint`` always is one: the test there is ``TRUE``, free.
    """

    lookup_name = "whole_units"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        if self.rhs is not True:
            raise ValueError("whole_units only takes True")
        if connection.vendor != "sqlite":
            return "TRUE", ()
        column, params = compiler.compile(self.lhs)
        return f"{column} = CAST({column} AS integer)", (*params, *params)


def money_column_check(
    *fields: str, name: str, max_abs: Decimal | None = None
) -> models.CheckConstraint:
    """A CHECK that the ``fields`` hold whole stored units (:class:`WholeUnits`) and, with
    ``max_abs`` (in the field's unit), stay within ±``max_abs`` — the bound that keeps the sums
    the ledger takes of a column far from the 64-bit limit (:data:`~encaisse.core.money.MAX_STORED`
    for balances; columns whose values input bounds already limit need only the first test).
    """
    condition = models.Q()
    for field in fields:
        condition &= models.Q(**{f"{field}__whole_units": True})
        if max_abs is not None:
            condition &= models.Q(**{f"{field}__gte": -max_abs, f"{field}__lte": max_abs})
    return models.CheckConstraint(condition=condition, name=name)
