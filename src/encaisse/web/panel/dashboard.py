# SPDX-License-Identifier: AGPL-3.0-or-later
"""Tableau de bord: balance, amount due, days of service left, last movements, 12-month chart."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from encaisse.invoicing.selectors import forecast, recurring_monthly_cost
from encaisse.ledger.selectors import (
    balance_history,
    customer_balance,
    customer_movements,
    prepaid_account,
)

from .access import PanelRequest, customer_view
from .chart import balance_chart
from .movements import movement_rows


@customer_view
def dashboard(request: PanelRequest) -> HttpResponse:
    customer = request.customer
    balance = customer_balance(customer)
    outlook = forecast(balance.available, recurring_monthly_cost(customer))
    history = balance_history(balance.prepaid_account or prepaid_account(customer), months=12)
    context = {
        "balance": balance,
        "forecast": outlook,
        "low_balance": outlook.low or balance.due > 0 or balance.prepaid < 0,
        "movements": movement_rows(customer_movements(customer)[:5]),
        "chart": balance_chart(history),
    }
    return render(request, "panel/dashboard.html", context)
