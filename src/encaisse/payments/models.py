# SPDX-License-Identifier: AGPL-3.0-or-later
"""Payments through a provider, and the provider events that move them.

A :class:`Payment` is money a payment provider (card, PayPal, SEPA…) is asked to take: a
**top-up** of the prepaid account (no invoice; the customer starts it) or the **collection** of an
invoice left due (the collection policy starts it, usually off-session). Its status follows the
explicit state machine of :mod:`encaisse.payments.transitions`; money moves only there, through
the ledger: a payment that succeeds credits the prepaid balance once (which settles the invoice),
a refund or a lost dispute reverses what went back.

The partial unique constraint keeps **at most one collection in flight per invoice** (pending or
waiting for the customer), so a card debit and a SEPA debit can never both be started for the
same amount due; (provider, provider reference) is unique, so two webhooks can never make two
payments of one provider object (getlago/lago-api PR #3223).

An :class:`InboundEvent` is a provider's notification, stored before it is handled
(conventions §4.8): a crash after storing leaves a ``received`` row that the worker handles later.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from encaisse.core.fields import CentsField


class PaymentMethod(models.TextChoices):
    """How money recorded by hand or imported arrived (staff form, API): not a provider."""

    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    MANDAT_ADMINISTRATIF = "mandat_administratif", _("Mandat administratif")
    CARD = "card", _("Card (CB, Visa, MasterCard)")
    PAYPAL = "paypal", _("PayPal")
    SEPA_DEBIT = "sepa_debit", _("SEPA direct debit")
    OTHER = "other", _("Other (recorded by staff)")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("In progress")
    REQUIRES_ACTION = "requires_action", _("Waiting for the customer")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")
    DISPUTED = "disputed", _("Disputed")


#: A payment the provider may still complete: at most one such collection per invoice.
IN_FLIGHT = (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION)


class CardNetwork(models.TextChoices):
    """The card networks we take (the product page: CB, Visa, MasterCard). Values are Stripe's
    ``card.networks`` names; a co-badged card carries CB and Visa or Mastercard, and its holder
    chooses which one is used (IFR, Regulation (EU) 2015/751, art. 8)."""

    CB = "cartes_bancaires", _("CB")
    VISA = "visa", _("Visa")
    MASTERCARD = "mastercard", _("Mastercard")


class SavedCard(models.Model):
    """A card the customer registered with a provider, for automatic debit or later top-ups.

    Only the provider's token and what the customer needs to recognise the card are kept
    (PCI DSS SAQ A: brand, last four digits, expiry), never the number. ``network`` is the
    network the holder chose (co-badged cards), sent with every charge. At most one active card
    per customer is the one automatic debit uses. A removed card is kept (payments name it),
    with ``removed_at`` set.
    """

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="saved_cards"
    )
    provider = models.CharField(_("provider"), max_length=40)
    external_ref = models.CharField(_("provider reference"), max_length=120)
    network = models.CharField(_("network"), max_length=20, choices=CardNetwork.choices)
    # Every network the card carries, comma-separated (a co-badged card: two).
    networks = models.CharField(_("networks"), max_length=100)
    last4 = models.CharField(_("last four digits"), max_length=4)
    exp_month = models.PositiveSmallIntegerField(_("expiry month"))
    exp_year = models.PositiveSmallIntegerField(_("expiry year"))
    for_automatic_debit = models.BooleanField(_("used for automatic debit"), default=False)
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)

    class Meta:
        verbose_name = _("saved card")
        verbose_name_plural = _("saved cards")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_ref"], name="saved_card_provider_reference"
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(for_automatic_debit=True, removed_at__isnull=True),
                name="saved_card_one_for_automatic_debit",
            ),
            models.CheckConstraint(
                condition=models.Q(network__in=CardNetwork.values), name="saved_card_network_known"
            ),
            models.CheckConstraint(
                condition=models.Q(exp_month__gte=1, exp_month__lte=12),
                name="saved_card_expiry_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_network_display()} •••• {self.last4}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class Payment(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="payments"
    )
    # Empty for a top-up; the invoice a collection pays (through the prepaid balance).
    invoice = models.ForeignKey(
        "invoicing.Invoice",
        on_delete=models.PROTECT,
        related_name="payments",
        null=True,
        blank=True,
    )
    provider = models.CharField(_("provider"), max_length=40)
    external_ref = models.CharField(_("provider reference"), max_length=120, blank=True)
    amount = CentsField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    # What went back to the payer (refunds, a lost dispute): the status becomes refunded when
    # it reaches the amount.
    refunded_amount = CentsField(_("refunded"), default=0)
    status = models.CharField(
        _("status"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    failure_reason = models.TextField(_("failure reason"), blank=True)
    # The saved card charged (an automatic debit, a top-up with a registered card), if any.
    card = models.ForeignKey(
        SavedCard,
        verbose_name=_("card"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
    )
    # The journal transaction that credited the prepaid balance, once succeeded.
    top_up = models.ForeignKey(
        "ledger.LedgerTransaction",
        verbose_name=_("top-up"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=models.Q(status__in=IN_FLIGHT),
                name="payment_one_in_flight_per_invoice",
            ),
            models.UniqueConstraint(
                fields=["provider", "external_ref"],
                condition=~models.Q(external_ref=""),
                name="payment_provider_reference",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__gte=0)
                & models.Q(refunded_amount__lte=models.F("amount")),
                name="payment_refunded_within_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=PaymentStatus.values), name="payment_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.amount} ({self.status})"

    @property
    def is_top_up(self) -> bool:
        """Started by the customer to top up the balance, rather than to collect an invoice."""
        return self.invoice_id is None


class EventStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    FAILED = "failed", _("Failed")
    IGNORED = "ignored", _("Ignored")


class InboundEvent(models.Model):
    """A provider's event (webhook, status file), verified then kept as received.

    Kept before it is handled and never deleted by the application: the trail of what each
    provider told us, with the error of the last failed attempt (Zulip's stored Stripe events).
    """

    provider = models.CharField(_("provider"), max_length=40)
    event_id = models.CharField(_("event id"), max_length=255)
    event_type = models.CharField(_("event type"), max_length=100)
    # The provider's reference of the payment the event is about ("" if none), and our payment
    # when the provider echoed its id: how the handler finds the payment to re-read.
    object_ref = models.CharField(_("object reference"), max_length=120, blank=True)
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="events", null=True, blank=True
    )
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=EventStatus.choices, default=EventStatus.RECEIVED
    )
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # Taken by a handler until then: another worker's pass leaves it alone meanwhile, and takes
    # it once expired (the handler crashed).
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("provider event")
        verbose_name_plural = _("provider events")
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="inbound_event_once"),
        ]
        indexes = [
            # The worker's pass reads what is left to handle, oldest first.
            models.Index(
                fields=["status", "received_at"],
                condition=models.Q(status__in=["received", "failed"]),
                name="inbound_event_to_handle",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id} ({self.status})"
