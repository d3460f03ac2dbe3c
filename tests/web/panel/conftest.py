# SPDX-License-Identifier: AGPL-3.0-or-later
"""Customer-panel fixtures: two customers with books, each with its own panel login."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from encaisse.customers.services import create_panel_login
from encaisse.invoicing.models import Invoice

PASSWORD = "correct horse battery staple"


@dataclass
class PanelCustomer:
    customer: Any
    user: Any
    invoice: Any
    email: str


@pytest.fixture
def panel_customer(make_customer, charge, top_up, bill, actor) -> Any:
    """Make a customer with one invoice (part paid by a top-up, rest due) and a panel login."""
    made: list[PanelCustomer] = []

    def make(email: str, *, kind: str = "company", period=None, **overrides: Any) -> PanelCustomer:
        siret = {"company": "73282932000074", "public_body": "21750001600019"}.get(kind, "")
        customer = make_customer(kind=kind, siret=siret, **overrides)
        charge(customer, "14.90", description="Hébergement Pro")
        top_up(customer, "5.00")
        login = create_panel_login(customer, email, actor=actor, password=PASSWORD)
        made.append(PanelCustomer(customer, login.user, None, email))
        return made[-1]

    def bill_all() -> list[PanelCustomer]:
        bill()
        for pc in made:
            pc.invoice = Invoice.objects.get(customer=pc.customer)
        return made

    make.bill_all = bill_all  # type: ignore[attr-defined]
    return make


@pytest.fixture
def alice_and_bob(panel_customer) -> tuple[PanelCustomer, PanelCustomer]:
    alice = panel_customer("alice@example.org", name="Alice Hébergement")
    bob = panel_customer("bob@example.org", name="Bob Services")
    panel_customer.bill_all()
    return alice, bob


@pytest.fixture
def alice(alice_and_bob) -> PanelCustomer:
    return alice_and_bob[0]


@pytest.fixture
def alice_client(client, alice) -> Any:
    client.force_login(alice.user)
    return client
