# SPDX-License-Identifier: AGPL-3.0-or-later
"""The collection policy: how an invoice left due gets paid, in order.

"À chaque facturation, votre compte prépayé est débité de la somme due" — the prepaid balance
comes first (the billing run applies it in bulk at issuance; :class:`PrepaidBalance` applies it to
a single invoice). Automatic-debit methods come next: every payment provider that
``collects_off_session`` is one (``payments.providers.collection``); payment by transfer closes
the list: nothing to start, the customer pays with the reference shown on the invoice.
``ENCAISSE_COLLECTION_POLICY`` lists identifiers in order.

A method that starts a collection returns the in-flight :class:`Payment`; the policy then stops,
and the partial unique constraint on payments keeps that the only collection in flight.
"""

from __future__ import annotations

import abc

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from encaisse.core.actors import Actor
from encaisse.core.registry import Registry
from encaisse.invoicing.charges import lock_customer
from encaisse.invoicing.models import Invoice, InvoiceStatus
from encaisse.invoicing.settlement import settle_open_invoices
from encaisse.ledger import keys
from encaisse.ledger.models import AccountKind, Entry

from .models import IN_FLIGHT, Payment


class CollectionMethod(abc.ABC):
    """Contract of a collection method.

    ``identifier`` and ``verbose_name`` are required. ``collects_without_customer`` says whether the
    method can act while the customer is away (off-session card, SEPA mandate).
    """

    identifier: str
    verbose_name: object
    collects_without_customer: bool = False

    @abc.abstractmethod
    def collect(self, invoice: Invoice, *, actor: Actor) -> Payment | None:
        """Try to get ``invoice.amount_due`` paid.

        Called inside a transaction holding the customer's money lock, with no other collection
        in flight. Either settle synchronously through the ledger services and return ``None``,
        or create and return a pending :class:`Payment` (its success credits the balance).
        Must not call an external system here: start it with ``transaction.on_commit``.
        """


class PrepaidBalance(CollectionMethod):
    identifier = "prepaid_balance"
    verbose_name = _("Prepaid balance")

    def collect(self, invoice: Invoice, *, actor: Actor) -> Payment | None:
        # The balance as it stands names this settlement: same balance, same key (idempotent).
        last = Entry.objects.filter(
            account__customer=invoice.customer, account__kind=AccountKind.PREPAID
        ).aggregate(last=Max("id"))["last"]
        settle_open_invoices(invoice.customer, trigger=keys.with_balance(last or 0), actor=actor)
        return None


class BankTransfer(CollectionMethod):
    identifier = "bank_transfer"
    verbose_name = _("Bank transfer with the customer or invoice number")

    def collect(self, invoice: Invoice, *, actor: Actor) -> Payment | None:
        return None  # the customer pays; the statement import will match the transfer


class CollectionRegistry(Registry[CollectionMethod]):
    def policy(self) -> list[CollectionMethod]:
        """The registered methods named by ``ENCAISSE_COLLECTION_POLICY``, in its order."""
        return [self.get(i) for i in settings.ENCAISSE_COLLECTION_POLICY if i in self]

    def collects_without_customer(self) -> bool:
        """Whether the policy has something to start once the balance was applied."""
        return any(method.collects_without_customer for method in self.policy())


registry = CollectionRegistry("collection methods")


def register_builtin_methods() -> None:
    registry.register(PrepaidBalance())
    registry.register(BankTransfer())


def in_flight(invoice: Invoice) -> Payment | None:
    return invoice.payments.filter(status__in=IN_FLIGHT).first()


def collect_invoice(invoice: Invoice, *, actor: Actor) -> Payment | None:
    """Run the policy for one invoice; return the payment left in flight, if any."""
    with transaction.atomic():
        lock_customer(invoice.customer)
        invoice.refresh_from_db()
        payment = in_flight(invoice)
        if payment is not None:
            return payment
        for method in registry.policy():
            if invoice.status != InvoiceStatus.OPEN:
                return None
            payment = method.collect(invoice, actor=actor)
            if payment is not None:
                return payment
            invoice.refresh_from_db()
    return None
