# SPDX-License-Identifier: AGPL-3.0-or-later
"""Tableau de bord: balance, amount due, days of service left, last movements, 12-month chart."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render

from encaisse.invoicing.selectors import recurring_monthly_cost
from encaisse.ledger.selectors import (
    balance_history,
    customer_balance,
    customer_movements,
    prepaid_account,
)

from .access import PanelRequest, customer_view
from .chart import balance_chart
from .movements import movement_rows

#: Average days per month (365.25 / 12), to turn a monthly cost into a daily one.
DAYS_PER_MONTH = Decimal("30.4375")


@dataclass(frozen=True)
class Forecast:
    monthly_cost: Decimal
    days_left: int | None  # None: no recurring charges, the balance is not being used up

    @property
    def low(self) -> bool:
        return self.days_left is not None and self.days_left < settings.ENCAISSE_LOW_BALANCE_DAYS


def forecast(available: Decimal, monthly_cost: Decimal) -> Forecast:
    """How many days the available balance (overdraft included) pays the recurring charges."""
    if monthly_cost <= 0:
        return Forecast(monthly_cost, None)
    if available <= 0:
        return Forecast(monthly_cost, 0)
    days = (available * DAYS_PER_MONTH / monthly_cost).to_integral_value(rounding=ROUND_FLOOR)
    return Forecast(monthly_cost, int(days))


@customer_view
def dashboard(request: PanelRequest) -> HttpResponse:
    customer = request.customer
    balance = customer_balance(customer)
    outlook = forecast(balance.available, recurring_monthly_cost(customer))
    history = balance_history(prepaid_account(customer), months=12)
    context = {
        "balance": balance,
        "forecast": outlook,
        "low_balance": outlook.low or balance.due > 0 or balance.prepaid < 0,
        "movements": movement_rows(customer_movements(customer)[:5]),
        "chart": balance_chart(history),
    }
    return render(request, "panel/dashboard.html", context)
