# SPDX-License-Identifier: AGPL-3.0-or-later
"""Background work of payments: collecting what issuance left due, handling provider events.

Tasks take ids, load objects and are idempotent, so the worker may run them twice. Collection
follows issuance through payments' issuance hook (:class:`CollectionHook`, registered in
``PaymentsConfig.ready()``), and only when the policy has a method that collects without the
customer: the balance itself was applied by the issuance.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.tasks import task

from encaisse.core.actors import Actor
from encaisse.invoicing.hooks import IssuanceHook
from encaisse.invoicing.models import Invoice, InvoiceStatus

from . import collection, events, flows
from .models import InboundEvent, Payment


@task()
def collect_due_invoices(invoice_ids: list[int]) -> int:
    """Run the collection policy for the invoices still open; how many payments were started."""
    actor = Actor.system("collection")
    started = 0
    for invoice in Invoice.objects.filter(pk__in=invoice_ids, status=InvoiceStatus.OPEN):
        started += collection.collect_invoice(invoice, actor=actor) is not None
    return started


@task()
def collect_payment(payment_id: int) -> str:
    """Ask the provider to collect a claimed payment (enqueued once the claim committed)."""
    payment = flows.run_collection(
        Payment.objects.get(pk=payment_id), actor=Actor.system("collection")
    )
    return payment.status


@task()
def handle_inbound_event(event_id: int) -> str:
    """Handle one stored provider event (the webhook view enqueues it after storing)."""
    return events.handle_event(InboundEvent.objects.get(pk=event_id)).status


@task()
def handle_pending_events() -> int:
    """The periodic pass over events left received or failed."""
    return events.handle_pending_events()


class CollectionHook(IssuanceHook):
    """Collect what the balance did not cover at issuance, with the policy's automatic methods."""

    identifier = "collection"

    def wanted(self) -> bool:
        return collection.registry.collects_without_customer()

    def documents_issued(self, invoice_ids: Sequence[int], due_invoice_ids: Sequence[int]) -> None:
        if due_invoice_ids:
            collect_due_invoices.enqueue(list(due_invoice_ids))
