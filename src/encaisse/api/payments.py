# SPDX-License-Identifier: AGPL-3.0-or-later
"""Payments received: top-ups of a customer's prepaid account (open invoices are then settled).

Cheques are refused by the service with its own message (decisions §6), whatever the spelling.
"""

from django.http import HttpRequest, HttpResponse
from ninja import Router

from encaisse.core.money import CENT
from encaisse.customers.selectors import get_by_number
from encaisse.payments.services import clean_method, record_top_up

from .auth import ApiKeyAuth, actor_of
from .idempotency import run_once
from .models import Scope
from .params import IdempotencyKey, Number
from .responses import Outcome, respond, to_json
from .schemas import ERRORS, TopUpIn, TopUpOut

router = Router(tags=["payments"])


@router.post(
    "/customers/{number}/payments",
    response={201: TopUpOut, 200: TopUpOut, **ERRORS},
    auth=ApiKeyAuth(Scope.PAYMENTS),
)
def create_payment(
    request: HttpRequest, number: Number, payload: TopUpIn, idempotency_key: IdempotencyKey
) -> HttpResponse:
    """Record money received (201); the same method and reference again is not counted (200)."""

    def operation() -> Outcome:
        customer = get_by_number(number)
        txn, created = record_top_up(
            customer,
            amount=payload.amount,
            method=payload.method,
            reference=payload.reference,
            actor=actor_of(request),
            reason=payload.reason,
        )
        top_up = {
            "transaction": txn.pk,
            "customer": customer.number,
            "amount": payload.amount.quantize(CENT),
            "method": clean_method(payload.method).value,
            "reference": payload.reference.strip(),
            "reason": txn.reason,
            "created_at": txn.created_at,
        }
        return Outcome(201 if created else 200, to_json(TopUpOut, top_up))

    return respond(request, run_once(request, idempotency_key, operation))
