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


# --- Staff second factor (TOTP) -----------------------------------------------------------------
# The back-office asks staff for the code of their authenticator app (ENCAISSE_STAFF_2FA, on by
# default, so the tests run as production does). A test that signs in as staff either opens a
# verified session directly (``staff_login``, ``admin_client``) or types the code in the login form,
# as a browser test does: ``device = totp_device(user)`` then the field ``otp_token`` (id
# ``id_otp_token``) gets ``totp_code(device)``. A code is accepted once per 30-second step and
# device: a second form login in the same step needs ``totp_code(device, steps_ahead=1)``.


@pytest.fixture
def totp_device(db) -> Callable[..., Any]:
    """``totp_device(user)``: enrol the staff user's authenticator app (a confirmed device)."""
    from encaisse.core.actors import Actor
    from encaisse.web.staff.second_factor import enroll_totp_device

    def enroll(user):
        return enroll_totp_device(user, actor=Actor.system("tests"), replace=True)

    return enroll


@pytest.fixture
def totp_code() -> Callable[..., str]:
    """``totp_code(device)``: the code its app shows now (``steps_ahead=1``: the next one)."""
    import time

    from django_otp.oath import TOTP

    def code(device, *, steps_ahead: int = 0) -> str:
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time() + steps_ahead * device.step
        return f"{totp.token():0{device.digits}d}"

    return code


@pytest.fixture
def staff_login(totp_device) -> Callable[..., Any]:
    """``staff_login(client, user)``: a session signed in with password and second factor."""
    from django_otp import DEVICE_ID_SESSION_KEY

    def login(client, user):
        device = totp_device(user)
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return login


@pytest.fixture
def admin_client(db, admin_user, staff_login):
    """pytest-django's ``admin_client``, verified by a second factor as the back-office requires."""
    from django.test import Client

    return staff_login(Client(), admin_user)
