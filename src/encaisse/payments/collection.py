# SPDX-License-Identifier: AGPL-3.0-or-later
"""The collection policy: how an invoice left due gets paid, in order.

"À chaque facturation, votre compte prépayé est débité de la somme due" — the prepaid balance
comes first (the billing run applies it in bulk at issuance; :class:`PrepaidBalance` applies it to
a single invoice). Automatic-debit methods (card, SEPA mandate) come next once their issues
register them; payment by transfer closes the list: nothing to start, the customer pays with the
reference shown on the invoice. ``ENCAISSE_COLLECTION_POLICY`` lists identifiers in order.

A method that starts a collection returns the in-flight :class:`Payment`; the policy then stops,
and the partial unique constraint on payments keeps that the only collection in flight.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from encaisse.core.actors import Actor
from encaisse.invoicing.models import Invoice, InvoiceStatus

from .models import Payment, PaymentStatus


class CollectionMethod:
    """Contract of a collection method.

    ``identifier`` and ``verbose_name`` are required. ``collects_without_customer`` says whether the
    method can act while the customer is away (off-session card, SEPA mandate).
    """

    identifier: ClassVar[str]
    verbose_name: ClassVar[object]
    collects_without_customer: ClassVar[bool] = False

    def collect(self, invoice: Invoice, *, actor: Actor) -> Payment | None:
        """Try to get ``invoice.amount_due`` paid.

        Called inside a transaction holding the customer's money lock, with no other collection
        in flight. Either settle synchronously through the ledger services and return ``None``,
        or create and return a pending :class:`Payment` (its confirmation credits the balance).
        Must not call an external system here: start it with ``transaction.on_commit``.
        """
        raise NotImplementedError


class PrepaidBalance(CollectionMethod):
    identifier = "prepaid_balance"
    verbose_name = _("Prepaid balance")

    def collect(self, invoice: Invoice, *, actor: Actor) -> Payment | None:
        from encaisse.invoicing.settlement import settle_open_invoices
        from encaisse.ledger.models import Entry

        # The balance as it stands names this settlement: same balance, same key (idempotent).
        last = Entry.objects.filter(
            account__customer=invoice.customer, account__kind="prepaid"
        ).aggregate(last=Max("id"))["last"]
        settle_open_invoices(invoice.customer, trigger=f"balance:{last or 0}", actor=actor)
        return None


class BankTransfer(CollectionMethod):
    identifier = "bank_transfer"
    verbose_name = _("Bank transfer with the customer or invoice number")

    def collect(self, invoice: Invoice, *, actor: Actor) -> Payment | None:
        return None  # the customer pays; the statement import will match the transfer


class Registry:
    def __init__(self) -> None:
        self._methods: dict[str, CollectionMethod] = {}

    def register(self, method: CollectionMethod) -> None:
        if not getattr(method, "identifier", ""):
            raise TypeError(f"{type(method).__name__} has no identifier")
        self._methods[method.identifier] = method

    def unregister(self, identifier: str) -> None:
        self._methods.pop(identifier, None)

    def get(self, identifier: str) -> CollectionMethod:
        return self._methods[identifier]

    def policy(self) -> list[CollectionMethod]:
        return [self._methods[i] for i in settings.ENCAISSE_COLLECTION_POLICY if i in self._methods]


registry = Registry()


def register_builtin_methods() -> None:
    registry.register(PrepaidBalance())
    registry.register(BankTransfer())


def collect_invoice(invoice: Invoice, *, actor: Actor) -> Payment | None:
    """Run the policy for one invoice; return the payment left in flight, if any."""
    from encaisse.invoicing.charges import lock_customer

    with transaction.atomic():
        lock_customer(invoice.customer)
        invoice.refresh_from_db()
        in_flight = invoice.payments.filter(status=PaymentStatus.PENDING).first()
        if in_flight is not None:
            return in_flight
        for method in registry.policy():
            if invoice.status != InvoiceStatus.OPEN:
                return None
            payment = method.collect(invoice, actor=actor)
            if payment is not None:
                return payment
            invoice.refresh_from_db()
    return None
