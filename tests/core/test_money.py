# SPDX-License-Identifier: AGPL-3.0-or-later
import doctest
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from encaisse.core import money
from encaisse.core.fields import CentsField, FixedDecimalField
from encaisse.customers import numbers


def test_doctests_of_money_and_customer_numbers_hold():
    for module in (money, numbers):
        assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize("value", [1.5, True, "abc", "1e400000", "NaN", "Infinity", "", "1,50"])
def test_parse_decimal_refuses_floats_and_garbage(value):
    with pytest.raises(money.MoneyError):
        money.parse_decimal(value)


def test_parse_decimal_refuses_fractions_of_a_cent_but_accepts_trailing_zeros():
    assert money.parse_decimal("12.3400") == Decimal("12.34")
    with pytest.raises(money.MoneyError):
        money.parse_decimal("12.345")


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["20", "10", "5.5", "2.1", "0"]))
def test_vat_is_the_half_up_rounding_of_base_times_rate(base, rate):
    exact = Decimal(base) * Decimal(rate) / 100  # in cents
    assert abs(money.vat_cents(base, Decimal(rate)) - exact) <= Decimal("0.5")
    floor = int(exact)
    expected = floor + (1 if exact - floor >= Decimal("0.5") else 0)
    assert money.vat_cents(base, Decimal(rate)) == expected


def test_fixed_decimal_fields_store_integers_and_refuse_floats_and_extra_decimals():
    cents, micro = CentsField(), FixedDecimalField(places=4)
    assert cents.get_prep_value(Decimal("9.90")) == 990
    assert micro.get_prep_value(Decimal("0.0045")) == 45
    assert cents.from_db_value(-5, None, None) == Decimal("-0.05")
    with pytest.raises(money.MoneyError):
        cents.get_prep_value(9.9)
    with pytest.raises(money.MoneyError):
        cents.get_prep_value(Decimal("0.001"))
