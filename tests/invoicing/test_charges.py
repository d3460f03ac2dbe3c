# SPDX-License-Identifier: AGPL-3.0-or-later
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from encaisse.core.exceptions import ValidationError
from encaisse.core.text import BlankText, ControlCharacters
from encaisse.invoicing import charges
from encaisse.invoicing.charges import cancel_charge
from encaisse.invoicing.exceptions import ChargeAlreadyInvoiced, ImplausiblePeriod
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


# --- Hostile input (issue 12, findings 4 and 9) -------------------------------------------------
@pytest.mark.parametrize("description", ["", "   ", " \u3000 ", "\u00a0"])
def test_a_blank_description_is_refused_en_16931_bt_153(make_customer, charge, description):
    """An invoice line needs a name: whitespace alone would print a line without one."""
    customer = make_customer()

    with pytest.raises(BlankText):
        charge(customer, description=description)
    assert not Charge.objects.filter(customer=customer).exists()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"description": "Hébergement\x00"},
        {"description": "Héber\x1bgement"},
        {"description": "Hébergement\nPro"},
        {"external_id": "plat\x00-1"},
    ],
)
def test_control_characters_are_refused_by_the_service(make_customer, charge, kwargs):
    customer = make_customer()

    with pytest.raises(ControlCharacters):
        charge(customer, **kwargs)
    assert not Charge.objects.filter(customer=customer).exists()


def test_the_stored_description_is_the_stripped_one(make_customer, charge):
    assert charge(make_customer(), description="  Hébergement Pro  ").description == (
        "Hébergement Pro"
    )


TODAY = dt.date(2026, 12, 3)


@pytest.mark.parametrize(
    "period",
    [
        (dt.date(1, 1, 1), dt.date(9999, 12, 31)),
        (dt.date(9999, 12, 30), dt.date(9999, 12, 31)),
        (dt.date(1999, 12, 31), dt.date(2000, 1, 31)),
        (dt.date(2020, 1, 1), dt.date(2025, 1, 2)),  # five years and a day
        (dt.date(2028, 12, 1), dt.date(2028, 12, 4)),  # ends more than two years ahead
    ],
)
def test_an_implausible_service_period_is_refused(make_customer, charge, period, monkeypatch):
    monkeypatch.setattr(charges.timezone, "localdate", lambda: TODAY)
    customer = make_customer()

    with translation.override("en"):
        with pytest.raises(ImplausiblePeriod) as refused:
            charge(customer, period=period)
        message = str(refused.value)  # messages are translated when shown

    assert "2000" in message and "5 years" in message
    assert not Charge.objects.filter(customer=customer).exists()


@pytest.mark.parametrize(
    "period",
    [
        (dt.date(2000, 1, 1), dt.date(2000, 1, 31)),
        (dt.date(2020, 1, 1), dt.date(2025, 1, 1)),  # exactly five years
        (dt.date(2028, 2, 29), dt.date(2028, 12, 3)),  # ends exactly two years ahead
    ],
)
def test_the_bounds_of_a_plausible_period_are_accepted(make_customer, charge, period, monkeypatch):
    monkeypatch.setattr(charges.timezone, "localdate", lambda: TODAY)

    assert charge(make_customer(), period=period).period_end == period[1]


def test_a_subscription_cannot_start_at_an_implausible_date(make_customer):
    from encaisse.invoicing.models import Plan
    from encaisse.invoicing.subscriptions import subscribe

    plan = Plan.objects.create(
        code="pro", name="Pro", unit_price=Decimal("9.90"), vat_rate=Decimal(20), interval="month"
    )

    with pytest.raises(ImplausiblePeriod):
        subscribe(make_customer().pk, plan.pk, start=dt.date(1, 1, 1))
