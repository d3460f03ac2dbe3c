# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the panel pages show: figures from the ledger, states, filters, the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from encaisse.invoicing.selectors import PaymentState, forecast, payment_state


def page(client, name, language="fr", **params):
    client.cookies["django_language"] = language
    return client.get(reverse(f"panel:{name}"), params)


def test_dashboard_figures_come_from_the_ledger(alice_client, alice):
    # Alice: 14.90 + 20 % VAT = 17.88 invoiced, 5.00 paid from her top-up, 12.88 due.
    response = page(alice_client, "dashboard")
    assert response.context["balance"].prepaid == Decimal("0.00")
    assert response.context["balance"].due == Decimal("12.88")
    assert response.context["low_balance"]
    text = response.content.decode()
    assert "12,88\xa0€" in text
    assert "Il vous reste 12,88\xa0€ à payer sur vos factures." in text
    english = page(alice_client, "dashboard", "en").content.decode()
    assert "€12.88" in english and "You have €12.88 left to pay on your invoices." in english


def test_the_chart_has_twelve_month_ends_ending_with_the_balance_now(alice_client, top_up, alice):
    top_up(alice.customer, "100.00")  # pays the 12.88 due, 87.12 left
    chart = page(alice_client, "dashboard").context["chart"]
    assert len(chart.points) == 12
    assert chart.points[-1].balance == Decimal("87.12")
    assert chart.points[-1].y < chart.zero_y  # above the zero line
    assert [p.month for p in chart.points] == sorted(p.month for p in chart.points)


@pytest.mark.parametrize(
    ("available", "monthly", "days", "low"),
    [
        ("0", "12", 0, True),
        ("12", "12", 30, False),
        ("5", "12", 12, True),
        ("50", "0", None, False),
    ],
)
def test_forecast_days_of_service(available, monthly, days, low):
    outlook = forecast(Decimal(available), Decimal(monthly))
    assert outlook.days_left == days
    assert outlook.low is low


def test_invoice_states_and_filters(alice_client, alice, top_up):
    states = dict(page(alice_client, "invoices").context["rows"])
    assert states[alice.invoice] == PaymentState.PARTLY_PAID
    assert [i for i, _ in page(alice_client, "invoices", state="paid").context["rows"]] == []
    top_up(alice.customer, "12.88")
    rows = page(alice_client, "invoices", state="paid").context["rows"]
    assert [(i.pk, s) for i, s in rows] == [(alice.invoice.pk, PaymentState.PAID)]
    detail = page(alice_client, "invoices").content.decode()
    assert "Payée" in detail


def test_overdue_invoices_are_marked(alice_client, alice):
    later = alice.invoice.due_date + dt.timedelta(days=1)
    assert payment_state(alice.invoice, later) == PaymentState.OVERDUE
    rows = page(alice_client, "invoices", state="unpaid").context["rows"]
    assert [i.pk for i, _ in rows] == [alice.invoice.pk]


def test_invoice_detail_shows_lines_totals_and_what_is_left(alice_client, alice):
    response = alice_client.get(reverse("panel:invoice", kwargs={"pk": alice.invoice.pk}))
    text = response.content.decode()
    assert alice.invoice.number in text
    assert "Hébergement Pro" in text
    assert response.context["state"] == PaymentState.PARTLY_PAID
    assert "12,88\xa0€" in text


def test_invoice_pdf_is_rendered_on_demand(alice_client, alice):
    response = alice_client.get(
        reverse("panel:invoice_pdf", kwargs={"pk": alice.invoice.pk}), {"download": "1"}
    )
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{alice.invoice.number}.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_movements_are_signed_for_the_customer_and_filterable(alice_client, alice):
    rows = page(alice_client, "movements").context["rows"]
    assert [r.amount for r in rows] == [Decimal("-5.00"), Decimal("5.00")]
    assert rows[1].description.startswith("Alimentation par Virement bancaire")
    top_ups = page(alice_client, "movements", kind="top_up").context["rows"]
    assert [r.amount for r in top_ups] == [Decimal("5.00")]
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert page(alice_client, "movements", since=tomorrow).context["rows"] == []


def test_movement_filters_refuse_an_inverted_range(alice_client):
    response = page(alice_client, "movements", since="2026-11-30", until="2026-11-01")
    assert "La date de début doit précéder la date de fin." in response.content.decode()
    assert response.context["rows"] == []


def test_movements_csv_export(alice_client, alice):
    alice_client.cookies["django_language"] = "en"
    response = alice_client.get(reverse("panel:movements_csv"), {"kind": "top_up"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Date", "Kind", "Description", "Reason", "Amount", "Currency"]
    assert [(r[1], r[4], r[5]) for r in rows[1:]] == [("Top-up", "5.00", "EUR")]


def test_payment_methods_page_tells_how_to_pay_and_refuses_cheques(alice_client, alice, settings):
    text = page(alice_client, "payment_methods").content.decode()
    assert "Les chèques ne sont pas acceptés." in text
    assert "FR76 3000 6000 0112 3456 7890 189" in text
    assert settings.ENCAISSE_SELLER["bic"] in text
    assert f'data-testid="reference">{alice.customer.number}<' in text
    for brand in ("CB", "Visa", "Mastercard"):
        assert brand in text
    english = page(alice_client, "payment_methods", "en").content.decode()
    assert "Cheques are not accepted." in english
