# SPDX-License-Identifier: AGPL-3.0-or-later
"""Charges, invoices, credit notes, subscriptions and billing runs.

A :class:`Charge` is what the hosting platform bills. Until it is invoiced it may be cancelled; once
a billing run (or a staff action) puts it on an invoice it *is* that invoice's line and is frozen
with it: the database refuses any change to an invoiced charge or to an issued invoice's content
(number, dates, customer, buyer, amounts). Only the settlement columns (``paid``, ``credited``,
``status``) and the PDF move after issuance.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from encaisse.core.actors import ActorFields
from encaisse.core.fields import CentsField, FixedDecimalField, money_column_check
from encaisse.core.money import MAX_AMOUNT

#: Columns of an issued invoice that the database triggers freeze (see migration 0002).
INVOICE_FROZEN_COLUMNS = (
    "number",
    "kind",
    "customer_id",
    "issue_date",
    "due_date",
    "period_start",
    "period_end",
    "currency",
    "total_excl_vat",
    "total_vat",
    "total_incl_vat",
    "vat_rate",
    "vat_breakdown_rows",
    "buyer_id",
    "credited_invoice_id",
    "billing_run_id",
)
CHARGE_FROZEN_COLUMNS = (
    "customer_id",
    "invoice_id",
    "description",
    "quantity",
    "unit_price",
    "vat_rate",
    "amount",
    "period_start",
    "period_end",
)


class Interval(models.TextChoices):
    MONTH = "month", _("Monthly")
    YEAR = "year", _("Yearly")


class Plan(models.Model):
    """A simple recurring offer (e.g. "Hébergement Pro, 9.90 €/month") for providers without a platform."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=140)
    unit_price = FixedDecimalField(_("price excl. VAT"), places=4)
    vat_rate = FixedDecimalField(_("VAT rate (%)"), places=2)
    interval = models.CharField(_("interval"), max_length=8, choices=Interval.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self) -> str:
        return self.name


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CANCELLED = "cancelled", _("Cancelled")


class Subscription(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="subscriptions"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    quantity = FixedDecimalField(_("quantity"), places=4, default=Decimal(1))
    status = models.CharField(
        _("status"), max_length=10, choices=SubscriptionStatus.choices, default="active"
    )
    # First day of the next period to charge; advanced when its charge is created.
    next_period_start = models.DateField(_("next period starts"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        indexes = [models.Index(fields=["status", "next_period_start"], name="subscription_due")]

    def __str__(self) -> str:
        return f"{self.customer} — {self.plan}"


class BillingRunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")


class BillingRun(ActorFields):
    """One execution of the billing for a period, resumable and exactly-once per customer."""

    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    issue_date = models.DateField(_("issue date"))
    status = models.CharField(
        _("status"), max_length=10, choices=BillingRunStatus.choices, default="running"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["period_start"],
                condition=models.Q(status="running"),
                name="billing_run_one_running_per_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.period_start:%Y-%m} #{self.pk}"


class ChunkStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")


class BillingRunChunk(models.Model):
    """A slice of customers (by id range) that one database transaction invoices and settles.

    Workers claim pending chunks with ``SELECT … FOR UPDATE SKIP LOCKED`` so several processes can
    share a run; the chunk's status flips to ``done`` in the same transaction as its invoices.
    """

    run = models.ForeignKey(BillingRun, on_delete=models.PROTECT, related_name="chunks")
    index = models.PositiveIntegerField()
    first_customer_id = models.BigIntegerField()
    last_customer_id = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=ChunkStatus.choices, default="pending")
    invoice_count = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="billing_chunk_unique_index")
        ]
        indexes = [models.Index(fields=["run", "status", "index"], name="billing_chunk_pending")]

    def __str__(self) -> str:
        return f"{self.run} chunk {self.index}"


class SetAsideReason(models.TextChoices):
    TOTAL_TOO_LARGE = "total_too_large", _("Invoice total above the maximum")
    NO_ACCOUNTS = "no_accounts", _("No prepaid or amount-due account")


class BillingRunSetAside(models.Model):
    """A customer a billing run could not invoice, set aside so the rest of its chunk is invoiced.

    Its charges stay uninvoiced: staff fix the cause (split or cancel charges, open the accounts)
    and the customer is invoiced by the next run or by hand. Written in the chunk's transaction.
    """

    run = models.ForeignKey(
        BillingRun,
        verbose_name=_("billing run"),
        on_delete=models.PROTECT,
        related_name="set_aside",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # indexed by the unique (customer, run) constraint
    )
    reason = models.CharField(_("reason"), max_length=20, choices=SetAsideReason.choices)
    # What the invoice would have totalled with VAT, when that is why.
    total = CentsField(_("total incl. VAT"), null=True, blank=True)
    created_at = models.DateTimeField(_("set aside"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer set aside")
        verbose_name_plural = _("customers set aside")
        constraints = [
            models.UniqueConstraint(fields=["customer", "run"], name="billing_set_aside_once"),
        ]
        ordering = ["run", "customer"]

    def __str__(self) -> str:
        return f"{self.run}: {self.customer_id} ({self.reason})"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class InvoiceStatus(models.TextChoices):
    OPEN = "open", _("Due")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled by credit note")


class Invoice(models.Model):
    """An issued invoice or credit note. Rows exist only once issued: the number is allocated then."""

    # Unique through the constraint in Meta (no second, pattern-ops index on PostgreSQL).
    number = models.CharField(_("number"), max_length=35)
    kind = models.CharField(_("kind"), max_length=12, choices=InvoiceKind.choices)
    # Indexed by the composite "invoice_open" index (customer first).
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="invoices",
        db_index=False,
    )
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    period_start = models.DateField(_("service period start"), null=True, blank=True)
    period_end = models.DateField(_("service period end"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    total_excl_vat = CentsField(_("total excl. VAT"))
    total_vat = CentsField(_("VAT"))
    total_incl_vat = CentsField(_("total incl. VAT"))
    # The VAT breakdown (EN 16931 BG-23, see ``vat_breakdown``): the rate alone when the invoice
    # has one, as most do (its base and VAT are then the totals), else one item per rate,
    # [{"rate": "20.00", "base": "10.00", "vat": "2.00"}, ...] by ascending rate. Exactly one is set.
    vat_rate = FixedDecimalField(_("VAT rate (%)"), places=2, null=True, blank=True)
    vat_breakdown_rows = models.JSONField(_("VAT breakdown"), null=True, blank=True)
    # The buyer as it was at issuance (name, address, VAT number, SIRET): the version of the
    # customer's identity current then; versions never change (customers.BillingIdentity).
    buyer = models.ForeignKey(
        "customers.BillingIdentity",
        verbose_name=_("buyer"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # versions are never deleted: nothing looks invoices up by it
    )
    # Indexed by the partial "invoice_credit_notes" index: only credit notes have one.
    credited_invoice = models.ForeignKey(
        "self",
        verbose_name=_("credited invoice"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        db_index=False,
    )
    # Indexed by the unique (billing_run, customer) constraint.
    billing_run = models.ForeignKey(
        BillingRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
        db_index=False,
    )
    # Settlement state: the only columns that change after issuance.
    paid = CentsField(_("paid"), default=0)
    credited = CentsField(_("credited"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=InvoiceStatus.choices)
    pdf = models.FileField(_("PDF"), upload_to="invoices/%Y/%m/", blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="invoice_number_unique"),
            models.UniqueConstraint(
                fields=["billing_run", "customer"],
                condition=models.Q(billing_run__isnull=False),
                name="invoice_once_per_run_and_customer",
            ),
            models.CheckConstraint(
                condition=models.Q(vat_rate__isnull=False, vat_breakdown_rows__isnull=True)
                | models.Q(vat_rate__isnull=True, vat_breakdown_rows__isnull=False),
                name="invoice_vat_rate_or_breakdown",
            ),
            models.CheckConstraint(
                condition=models.Q(paid__gte=0, credited__gte=0)
                & models.Q(paid__lte=models.F("total_incl_vat") - models.F("credited")),
                name="invoice_settlement_within_total",
            ),
            money_column_check(
                "total_excl_vat",
                "total_vat",
                "total_incl_vat",
                "paid",
                "credited",
                name="invoice_amounts_whole_cents",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "status", "issue_date"], name="invoice_open"),
            models.Index(
                fields=["credited_invoice"],
                condition=models.Q(credited_invoice__isnull=False),
                name="invoice_credit_notes",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def amount_due(self) -> Decimal:
        return self.total_incl_vat - self.paid - self.credited

    @property
    def vat_breakdown(self) -> list[dict[str, str]]:
        """One ``{"rate", "base", "vat"}`` per VAT rate, by ascending rate (EN 16931 BG-23)."""
        if self.vat_breakdown_rows is not None:
            return list(self.vat_breakdown_rows)
        rate = self.vat_rate
        return [
            {"rate": f"{rate:.2f}", "base": str(self.total_excl_vat), "vat": str(self.total_vat)}
        ]

    @staticmethod
    def vat_fields(breakdown: list[dict[str, str]]) -> dict[str, Any]:
        """The columns that store ``breakdown`` (items as :attr:`vat_breakdown` gives them)."""
        if len(breakdown) == 1:
            return {"vat_rate": Decimal(breakdown[0]["rate"]), "vat_breakdown_rows": None}
        return {"vat_rate": None, "vat_breakdown_rows": breakdown}


class Charge(ActorFields):
    """A billable item; once invoiced, the invoice's line (frozen)."""

    # Found by customer through the partial indexes below (uninvoiced charges, external ids);
    # invoiced ones through their invoice. A plain index would be rewritten at every invoicing.
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="charges",
        db_index=False,
    )
    invoice = models.ForeignKey(
        Invoice,
        verbose_name=_("invoice"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lines",
        # Indexed by the partial "charge_invoice" index: an uninvoiced charge is not in it, so
        # invoicing a charge adds one index entry instead of moving it from the NULL key.
        db_index=False,
    )
    # Indexed by the partial "charge_subscription" index (charges posted through the API have none).
    subscription = models.ForeignKey(
        Subscription,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="charges",
        db_index=False,
    )
    description = models.CharField(_("description"), max_length=200)
    quantity = FixedDecimalField(_("quantity"), places=4)
    unit_price = FixedDecimalField(_("unit price excl. VAT"), places=4)
    vat_rate = FixedDecimalField(_("VAT rate (%)"), places=2)
    amount = CentsField(_("amount excl. VAT"))
    period_start = models.DateField(_("service period start"))
    period_end = models.DateField(_("service period end"))
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "external_id"],
                condition=~models.Q(external_id=""),
                name="charge_external_id_unique",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="charge_amount_nonneg"),
            money_column_check("amount", name="charge_amount_bounded", max_abs=MAX_AMOUNT),
        ]
        indexes = [
            models.Index(
                fields=["customer", "period_start"],
                condition=models.Q(invoice__isnull=True),
                name="charge_uninvoiced",
            ),
            models.Index(
                fields=["invoice"],
                condition=models.Q(invoice__isnull=False),
                name="charge_invoice",
            ),
            models.Index(
                fields=["subscription"],
                condition=models.Q(subscription__isnull=False),
                name="charge_subscription",
            ),
        ]

    def __str__(self) -> str:
        return self.description
