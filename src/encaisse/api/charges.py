# SPDX-License-Identifier: AGPL-3.0-or-later
"""Charges: what the platform bills, waiting for the customer's next invoice."""

from django.http import HttpRequest, HttpResponse
from ninja import Router

from encaisse.customers.selectors import get_by_number
from encaisse.invoicing.charges import add_charge

from .auth import ApiKeyAuth, actor_of
from .idempotency import run_once
from .models import Scope
from .params import IdempotencyKey
from .responses import Outcome, respond, to_json
from .schemas import ERRORS, ChargeIn, ChargeOut

router = Router(tags=["charges"])


@router.post(
    "/charges",
    response={201: ChargeOut, 200: ChargeOut, **ERRORS},
    auth=ApiKeyAuth(Scope.CHARGES),
)
def create_charge(
    request: HttpRequest, payload: ChargeIn, idempotency_key: IdempotencyKey
) -> HttpResponse:
    """Add a charge (201), or return the one already recorded with this ``external_id`` (200)."""

    def operation() -> Outcome:
        charge, created = add_charge(
            get_by_number(payload.customer),
            description=payload.description,
            quantity=payload.quantity,
            unit_price=payload.unit_price,
            vat_rate=payload.vat_rate,
            period_start=payload.period_start,
            period_end=payload.period_end,
            actor=actor_of(request),
            external_id=payload.external_id.strip(),
        )
        charge.refresh_from_db()  # answer with the stored scale ("1.0000"), as GETs will
        return Outcome(201 if created else 200, to_json(ChargeOut, charge))

    return respond(request, run_once(request, idempotency_key, operation))
