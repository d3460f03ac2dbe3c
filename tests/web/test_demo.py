# SPDX-License-Identifier: AGPL-3.0-or-later
"""``encaisse demo``: a year of history built through the services, once, then served."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import types
from io import StringIO
from typing import ClassVar

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from stdnum.eu import vat
from stdnum.fr import siret

from encaisse.core.models import AuditLog
from encaisse.customers.models import Customer
from encaisse.invoicing.models import BillingRun, Charge, Invoice, Plan, Subscription
from encaisse.ledger.models import Entry, LedgerTransaction
from encaisse.ledger.selectors import check_ledger
from encaisse.web import demo
from encaisse.web.management.commands import demo as command

MODELS = (
    Customer,
    Invoice,
    Charge,
    BillingRun,
    Plan,
    Subscription,
    LedgerTransaction,
    Entry,
    AuditLog,
    get_user_model(),
)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def _run(*args: str) -> str:
    out = StringIO()
    call_command("demo", "--no-serve", *args, stdout=out)
    return out.getvalue()


def _check_history() -> None:
    assert Customer.objects.count() == 50
    assert {c.kind for c in Customer.objects.all()} == {"individual", "company", "public_body"}
    periods = set(Invoice.objects.values_list("billing_run__period_start", flat=True))
    assert len(periods) == 12
    assert BillingRun.objects.filter(status="completed").count() == 12
    assert Invoice.objects.count() == 600
    assert set(Invoice.objects.values_list("status", flat=True)) == {"paid", "open"}
    assert Invoice.objects.filter(status="open", paid__gt=0).exists()  # partly paid
    for run in BillingRun.objects.all():  # back-dated: issued on the 1st of the next month
        assert run.issue_date == run.period_end + dt.timedelta(days=1)
        assert not run.invoices.exclude(issue_date=run.issue_date).exists()
    assert check_ledger().ok


def _check_identifiers() -> None:
    companies = Customer.objects.filter(kind="company")
    assert all(siret.is_valid(c.siret) and vat.is_valid(c.vat_number) for c in companies)
    assert all(c.vat_number[4:] == c.siret[:9] for c in companies)
    assert all(siret.is_valid(c.siret) for c in Customer.objects.filter(kind="public_body"))


def _top_up_methods(**filters) -> set[str]:
    keys = LedgerTransaction.objects.filter(kind="top_up", **filters).values_list(
        "idempotency_key", flat=True
    )
    return {key.split(":")[1] for key in keys}


def _check_payments_and_pdfs() -> None:
    assert _top_up_methods() == {"bank_transfer", "card", "paypal", "mandat_administratif"}
    assert _top_up_methods(customer__kind="public_body") == {"mandat_administratif"}
    runs = list(BillingRun.objects.order_by("period_start"))
    recent = Invoice.objects.filter(billing_run__in=runs[-3:])
    assert recent.count() == 150
    assert not recent.filter(pdf="").exists()
    assert not Invoice.objects.filter(billing_run=runs[0]).exclude(pdf="").exists()


def _check_login(output: str) -> None:
    assert "http://127.0.0.1:8000/admin/" in output
    assert "admin / encaisse-demo" in output
    assert "Example customer: C" in output
    user = get_user_model().objects.get(username="admin")
    assert user.is_staff and user.is_superuser and user.check_password("encaisse-demo")


def _check_panel(output: str) -> None:
    """The printed customer login opens a populated panel: balance, invoices, movements, chart."""
    email, password = re.search(r"Login: +(\S+@\S+) / (\S+)", output).groups()
    assert "http://127.0.0.1:8000/panel/" in output
    client = Client()
    assert (
        client.post("/panel/login/", {"username": email, "password": password}).status_code == 302
    )
    dashboard = client.get("/panel/")
    assert dashboard.status_code == 200
    assert dashboard.context["balance"].prepaid > 0
    balances = {p.balance for p in dashboard.context["chart"].points}
    assert len(balances) >= 6  # a year of top-ups and invoices, not a flat line
    assert len(dashboard.context["movements"]) == 5
    months = {
        row.at.date().replace(day=1) for row in client.get("/panel/movements/").context["rows"]
    }
    assert len(months) >= 6  # the history is dated across the year, not all today
    invoices = client.get("/panel/invoices/").context["rows"]
    assert len(invoices) == 12


def test_demo_seeds_a_year_of_history_once(db, media):
    """One seeding per test run (about 15 s): every property is checked on the same data."""
    output = _run()

    _check_history()
    _check_identifiers()
    _check_payments_and_pdfs()
    _check_login(output)
    _check_panel(output)

    before = _counts()
    user = get_user_model().objects.get(username="admin")
    user.set_password("changed")
    user.save()
    again = _run()

    assert _counts() == before
    assert "already present" in again
    user.refresh_from_db()
    assert user.check_password("encaisse-demo")  # the printed login works again
    assert check_ledger().ok


def test_an_interrupted_demo_resumes_without_duplicates(db, media, monkeypatch):
    real_bill = demo._bill

    def crash_in_may(period_start):
        if period_start.month == 5:
            raise RuntimeError("power cut")
        real_bill(period_start)

    monkeypatch.setattr(demo, "_bill", crash_in_may)
    with pytest.raises(RuntimeError):
        _run("--customers", "8", "--pdf-months", "0")
    monkeypatch.setattr(demo, "_bill", real_bill)

    _run("--customers", "8", "--pdf-months", "0")

    assert Customer.objects.count() == 8
    assert BillingRun.objects.count() == 12
    assert Invoice.objects.count() == 8 * 12
    assert check_ledger().ok
    assert AuditLog.objects.filter(action=demo.MARKER).count() == 1


def test_demo_refuses_to_run_in_production(db, settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="not in production"):
        _run()
    assert not Customer.objects.exists()


class FakeWorker:
    """Stands for the ``encaisse worker`` child process."""

    started: ClassVar[list[FakeWorker]] = []

    def __init__(self, args, env):
        self.args, self.running = args, True
        FakeWorker.started.append(self)

    def poll(self):
        return None if self.running else 0

    def terminate(self):
        self.running = False

    def wait(self, timeout=None):
        return 0


def test_serving_runs_the_worker_and_stops_it_with_the_server(db, monkeypatch):
    served = []

    def runserver(name, *args, **options):
        served.append((name, args, options))
        raise SystemExit(0)  # what runserver does on Ctrl-C

    monkeypatch.setattr(demo, "seed", lambda **kw: demo.summary(created=False))
    monkeypatch.setattr(command, "call_command", runserver)
    fake = types.SimpleNamespace(Popen=FakeWorker, TimeoutExpired=subprocess.TimeoutExpired)
    monkeypatch.setattr(command, "subprocess", fake)

    with pytest.raises(SystemExit):
        call_command("demo", "--addr", "127.0.0.1:0", stdout=StringIO())

    (worker,) = FakeWorker.started
    assert worker.args[-3:] == ["encaisse.cli", "worker", "--no-reload"]
    assert not worker.running
    assert served == [
        ("runserver", ("127.0.0.1:0",), {"use_reloader": False, "insecure_serving": True})
    ]
