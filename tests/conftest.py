# SPDX-License-Identifier: AGPL-3.0-or-later
"""Shared fixtures. Tests never touch the network (pytest-socket) nor ../shared."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

NOVEMBER = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    """Background tasks run inline; PDFs only where a test asks; media in a temporary folder."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.ENCAISSE_RENDER_PDF = False
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def actor():
    from encaisse.core.actors import Actor

    return Actor.system("tests")


@pytest.fixture
def make_customer(db, actor) -> Callable[..., Any]:
    from encaisse.customers.services import CustomerData, create_customer

    counter = iter(range(1, 1_000_000))

    def make(overdraft=None, **overrides: Any):
        n = next(counter)
        values = {
            "name": f"Client {n}",
            "email": f"client{n}@example.org",
            "kind": "company",
            "address_line1": f"{n} rue de la Paix",
            "postal_code": "75002",
            "city": "Paris",
        }
        values.update(overrides)
        return create_customer(CustomerData(**values), actor=actor, overdraft=overdraft)

    return make


@pytest.fixture
def charge(actor) -> Callable[..., Any]:
    from encaisse.invoicing.charges import add_charge

    def make(customer, unit_price="9.90", *, quantity="1", vat_rate="20", period=NOVEMBER, **kw):
        created, _ = add_charge(
            customer,
            description=kw.pop("description", "Hébergement"),
            quantity=quantity,
            unit_price=unit_price,
            vat_rate=vat_rate,
            period_start=period[0],
            period_end=period[1],
            actor=actor,
            **kw,
        )
        return created

    return make


@pytest.fixture
def top_up(actor) -> Callable[..., Any]:
    from encaisse.payments.services import record_top_up

    counter = iter(range(1, 1_000_000))

    def make(customer, amount="10.00", reference=None, method="bank_transfer"):
        txn, _ = record_top_up(
            customer,
            amount=amount,
            method=method,
            reference=reference or f"bank-entry-{next(counter)}",
            actor=actor,
        )
        return txn

    return make


@pytest.fixture
def bill(actor) -> Callable[..., Any]:
    from encaisse.invoicing import billing

    def run(period="2026-11", chunk_size=2):
        started = billing.start_run(period, actor=actor, chunk_size=chunk_size)
        return billing.process_run(started, actor=actor)

    return run


@pytest.fixture
def assert_ledger_ok(db) -> Callable[[], None]:
    from encaisse.ledger.selectors import check_ledger

    def check() -> None:
        report = check_ledger()
        assert report.ok, report

    return check
