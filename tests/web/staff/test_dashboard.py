# SPDX-License-Identifier: AGPL-3.0-or-later
"""The back-office index shows the totals the ledger and the invoices say, per locale."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from babel.numbers import format_currency
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from encaisse.invoicing import billing
from encaisse.invoicing.models import Invoice
from encaisse.invoicing.selectors import open_invoice_totals, recent_billing_runs
from encaisse.ledger.models import Account
from encaisse.ledger.selectors import customer_account_totals
from encaisse.payments.services import reverse_top_up

AUGUST = (dt.date(2026, 8, 1), dt.date(2026, 8, 31))


@dataclass
class Expected:
    held: Decimal
    in_credit: int
    overdraft: Decimal
    receivable: Decimal
    due: list[Invoice]
    overdue: list[Invoice]


def _expected(today: dt.date) -> Expected:
    """The same figures the slow way: row by row, in Python."""
    prepaid = [a.balance for a in Account.objects.filter(kind="prepaid", customer__isnull=False)]
    receivable = Account.objects.filter(kind="receivable", customer__isnull=False)
    open_invoices = list(Invoice.objects.filter(kind="invoice", status="open"))
    return Expected(
        held=sum((b for b in prepaid if b > 0), Decimal(0)),
        in_credit=sum(1 for b in prepaid if b > 0),
        overdraft=-sum((b for b in prepaid if b < 0), Decimal(0)),
        receivable=sum((a.balance for a in receivable), Decimal(0)),
        due=[i for i in open_invoices if i.due_date >= today],
        overdue=[i for i in open_invoices if i.due_date < today],
    )


@pytest.fixture
def books(make_customer, charge, top_up, bill, actor):
    """Money in every state: held, overdraft used, due, overdue, and a chargeback debt."""
    late = make_customer(name="Retard SARL")
    charge(late, "25.00", period=AUGUST)
    august = billing.start_run("2026-08", actor=actor, issue_date=dt.date(2026, 9, 1))
    billing.process_run(august, actor=actor)

    saver = make_customer(name="Épargne SAS")
    top_up(saver, "100.00")
    charge(saver, "9.90")
    in_credit = make_customer(name="Crédit SA")
    top_up(in_credit, "1234.56")
    overdrawn = make_customer(name="Découvert SARL", overdraft="50.00")
    charge(overdrawn, "30.00")
    unpaid = make_customer(name="Impayé SARL")
    charge(unpaid, "14.90")
    top_up(unpaid, "5.00")
    fresh = make_customer(name="Nouveau SARL")
    charge(fresh, "10.00")
    charged_back = make_customer(name="Rétrofacturé SAS")
    spent = top_up(charged_back, "20.00")
    charge(charged_back, "9.90")
    bill()
    reverse_top_up(spent, actor=actor, reason="card chargeback")


def test_totals_are_what_the_accounts_and_invoices_say(books):
    today = timezone.localdate()
    expected = _expected(today)
    accounts = customer_account_totals()
    invoices = open_invoice_totals(today=today)

    assert accounts.prepaid_held == expected.held == Decimal("1322.68")
    assert accounts.customers_in_credit == expected.in_credit == 2
    assert accounts.overdraft_used == expected.overdraft == Decimal("36.00")
    assert accounts.receivable == expected.receivable
    assert accounts.owed == expected.receivable + expected.overdraft
    assert invoices.due_count == len(expected.due) == 2
    assert invoices.due_amount == sum(i.amount_due for i in expected.due) == Decimal("24.88")
    assert invoices.overdue_count == len(expected.overdue) == 1
    assert invoices.overdue_amount == Decimal("30.00")
    assert accounts.receivable - invoices.amount == Decimal("11.88")  # the chargeback debt


def test_each_total_is_one_query(books):
    for selector in (
        customer_account_totals,
        lambda: open_invoice_totals(today=timezone.localdate()),
        recent_billing_runs,
    ):
        with CaptureQueriesContext(connection) as queries:
            selector()
        assert len(queries) == 1


def test_an_invoice_is_overdue_the_day_after_its_due_date(books):
    (late,) = Invoice.objects.filter(customer__name="Retard SARL")

    assert open_invoice_totals(today=late.due_date).overdue_count == 0
    assert open_invoice_totals(today=late.due_date + dt.timedelta(days=1)).overdue_count == 1


def test_last_billing_runs_count_their_invoices(books):
    november, august = recent_billing_runs()

    assert (november.period_start, august.period_start) == (
        dt.date(2026, 11, 1),
        dt.date(2026, 8, 1),
    )
    assert november.invoice_count == 5
    assert november.invoiced == sum(i.total_incl_vat for i in november.invoices.all())
    assert august.invoiced == Decimal("30.00")


def _cell(html: str, cell_id: str) -> str:
    match = re.search(rf'id="{cell_id}">([^<]*)<', html)
    assert match, f"no {cell_id} on the page"
    return match.group(1)


@pytest.mark.parametrize(("language", "locale"), [("fr", "fr_FR"), ("en", "en_GB")])
def test_the_index_shows_the_totals_in_the_reader_language(admin_client, books, language, locale):
    html = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    def money(value: str) -> str:
        return format_currency(Decimal(value), "EUR", locale=locale)

    assert _cell(html, "total-prepaid-held") == money("1322.68")
    assert _cell(html, "invoices-due-count") == "2"
    assert _cell(html, "invoices-due-amount") == money("24.88")
    assert _cell(html, "invoices-overdue-amount") == money("30.00")
    assert _cell(html, "total-owed") == money(str(customer_account_totals().owed))
    assert "2026-08" in html and "2026-11" in html  # the billing runs
    assert money("1322.68") == ("1\u202f322,68\xa0€" if language == "fr" else "€1,322.68")


def test_the_index_still_lists_the_apps(admin_client, db):
    html = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "No billing run yet." in html
    assert 'href="/admin/customers/customer/"' in html
