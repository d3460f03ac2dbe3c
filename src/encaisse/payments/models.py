# SPDX-License-Identifier: AGPL-3.0-or-later
"""Payments in flight: what an automatic-debit method (card, SEPA mandate) is collecting.

A payment moves money only when it succeeds, through ``payments.services`` and the ledger. The
partial unique constraint keeps **at most one collection in flight per invoice**, so a card debit
and a SEPA debit can never both be started for the same amount due.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from encaisse.core.fields import CentsField


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    MANDAT_ADMINISTRATIF = "mandat_administratif", _("Mandat administratif")
    CARD = "card", _("Card (CB, Visa, MasterCard)")
    PAYPAL = "paypal", _("PayPal")
    SEPA_DEBIT = "sepa_debit", _("SEPA direct debit")
    OTHER = "other", _("Other (recorded by staff)")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("In progress")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


IN_FLIGHT = (PaymentStatus.PENDING,)


class Payment(models.Model):
    invoice = models.ForeignKey(
        "invoicing.Invoice", on_delete=models.PROTECT, related_name="payments"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="payments"
    )
    method = models.CharField(_("collection method"), max_length=40)
    amount = CentsField(_("amount"))
    status = models.CharField(
        _("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    external_ref = models.CharField(_("provider reference"), max_length=120, blank=True)
    failure_reason = models.TextField(_("failure reason"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=models.Q(status="pending"),
                name="payment_one_in_flight_per_invoice",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.amount} ({self.status})"
