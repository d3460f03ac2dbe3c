# SPDX-License-Identifier: AGPL-3.0-or-later
import datetime as dt
from decimal import Decimal

import pytest

from encaisse.core.exceptions import ValidationError
from encaisse.invoicing.charges import cancel_charge
from encaisse.invoicing.exceptions import ChargeAlreadyInvoiced
from encaisse.invoicing.models import Charge


def test_line_amount_is_quantity_times_unit_price_rounded_half_up(make_customer, charge):
    line = charge(make_customer(), unit_price="0.0045", quantity="1111")
    assert line.amount == Decimal("5.00")  # 4.9995 -> 5.00


@pytest.mark.parametrize(
    "kwargs",
    [
        {"unit_price": "-1"},
        {"unit_price": "abc"},
        {"unit_price": 9.9},
        {"unit_price": "1.00001"},
        {"quantity": "0"},
        {"quantity": "-2"},
        {"vat_rate": "19"},
        {"vat_rate": "twenty"},
        {"period": (dt.date(2026, 11, 30), dt.date(2026, 11, 1))},
    ],
)
def test_bad_charges_are_refused_and_nothing_is_recorded(make_customer, charge, kwargs):
    customer = make_customer()
    with pytest.raises(ValidationError):
        charge(customer, **kwargs)
    assert not Charge.objects.filter(customer=customer).exists()


def test_unknown_vat_rate_message_lists_the_allowed_rates(make_customer, charge):
    with pytest.raises(ValidationError) as error:
        charge(make_customer(), vat_rate="19")
    assert "19" in str(error.value) and "5.5" in str(error.value)


def test_a_charge_with_an_external_id_is_recorded_once(make_customer, charge):
    customer = make_customer()
    first = charge(customer, external_id="platform-42")
    again = charge(customer, external_id="platform-42")
    assert first.pk == again.pk
    assert Charge.objects.filter(customer=customer).count() == 1


def test_an_uninvoiced_charge_can_be_cancelled_but_not_an_invoiced_one(
    make_customer, charge, bill, actor
):
    customer = make_customer()
    cancel_charge(charge(customer), actor=actor, reason="duplicate")
    assert not Charge.objects.filter(customer=customer).exists()
    kept = charge(customer)
    bill()
    kept.refresh_from_db()
    with pytest.raises(ChargeAlreadyInvoiced):
        cancel_charge(kept, actor=actor, reason="too late")
