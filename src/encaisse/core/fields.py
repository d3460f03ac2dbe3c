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

from .money import MoneyError


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
