# SPDX-License-Identifier: AGPL-3.0-or-later
"""Customers: create (idempotent), list, read, balance and prepaid-account movements."""

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.pagination import paginate

from encaisse.customers import selectors as customer_selectors
from encaisse.customers import services as customer_services
from encaisse.ledger import selectors as ledger_selectors

from . import selectors
from .auth import ApiKeyAuth, actor_of
from .idempotency import run_once
from .models import Scope
from .params import IdempotencyKey, Number, Pages, QueryText
from .responses import Outcome, respond, to_json
from .schemas import ERRORS, READ_ERRORS, BalanceOut, CustomerIn, CustomerOut, MovementOut

router = Router(tags=["customers"])
PAGE = {"page_size": 50, "max_page_size": 200}


@router.post("/customers", response={201: CustomerOut, **ERRORS}, auth=ApiKeyAuth(Scope.CUSTOMERS))
def create_customer(
    request: HttpRequest, payload: CustomerIn, idempotency_key: IdempotencyKey
) -> HttpResponse:
    """Create a customer with its prepaid account (a retry with the same key creates none)."""

    def operation() -> Outcome:
        customer = customer_services.create_customer(
            payload.to_data(), actor=actor_of(request), overdraft=payload.overdraft
        )
        return Outcome(201, to_json(CustomerOut, customer))

    return respond(request, run_once(request, idempotency_key, operation))


@router.get(
    "/customers", response={200: list[CustomerOut], **READ_ERRORS}, auth=ApiKeyAuth(Scope.READ)
)
@paginate(Pages, **PAGE)
def list_customers(request: HttpRequest, search: QueryText = "") -> QuerySet[Any]:
    """All the provider's customers by number; ``search`` matches number, name or e-mail."""
    return selectors.search_customers(search)


@router.get(
    "/customers/{number}",
    response={200: CustomerOut, **READ_ERRORS},
    auth=ApiKeyAuth(Scope.READ),
)
def get_customer(request: HttpRequest, number: Number) -> Any:
    return customer_selectors.get_by_number(number)


@router.get(
    "/customers/{number}/balance",
    response={200: BalanceOut, **READ_ERRORS},
    auth=ApiKeyAuth(Scope.READ),
)
def get_balance(request: HttpRequest, number: Number) -> dict[str, Any]:
    """Prepaid balance, amount due on invoices, and what debits may still take."""
    customer = customer_selectors.get_by_number(number)
    balance = ledger_selectors.customer_balance(customer)
    return {
        "customer": customer.number,
        "currency": settings.ENCAISSE_CURRENCY,
        "prepaid": balance.prepaid,
        "due": balance.due,
        "available": balance.available,
    }


@router.get(
    "/customers/{number}/movements",
    response={200: list[MovementOut], **READ_ERRORS},
    auth=ApiKeyAuth(Scope.READ),
)
@paginate(Pages, **PAGE)
def list_movements(request: HttpRequest, number: Number) -> QuerySet[Any]:
    """Movements of the prepaid account, newest first, + for money credited to the customer."""
    return ledger_selectors.customer_movements(customer_selectors.get_by_number(number))
