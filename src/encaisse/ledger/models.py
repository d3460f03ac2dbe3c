# SPDX-License-Identifier: AGPL-3.0-or-later
"""The double-entry ledger: accounts, journal transactions and their entries.

Sign convention: an entry's ``amount`` is positive for a debit and negative for a credit, so the
entries of a transaction sum to zero per currency. An account's cached ``balance`` is shown in its
natural orientation, ``balance = normal_sign × Σ entries``: a customer's prepaid account (a
liability, credit-normal, ``normal_sign = -1``) shows +100.00 after a 100.00 top-up.

Entries and transactions are append-only (ORM and database triggers). The balance column is a
cache written only by ``ledger.services`` in the same database transaction as the entries, guarded
so it never goes below the account's floor (CHECK constraint as backstop) — see
ledger-and-reliability.md §1 invariants I1–I5.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from encaisse.core.actors import ActorFields
from encaisse.core.fields import MAX_STORED_CENTS, CentsField, money_column_check
from encaisse.core.immutability import AppendOnlyModel


class AccountKind(models.TextChoices):
    PREPAID = "prepaid", _("Prepaid balance")
    RECEIVABLE = "receivable", _("Amount due")
    REVENUE = "revenue", _("Revenue")
    VAT_COLLECTED = "vat_collected", _("VAT collected")
    BANK = "bank", _("Bank")
    PSP_CLEARING = "psp_clearing", _("Payment provider clearing")
    WRITE_OFF = "write_off", _("Write-offs")


#: +1 for debit-normal accounts (assets, expenses), -1 for credit-normal ones.
NORMAL_SIGN = {
    AccountKind.PREPAID: -1,
    AccountKind.RECEIVABLE: 1,
    AccountKind.REVENUE: -1,
    AccountKind.VAT_COLLECTED: -1,
    AccountKind.BANK: 1,
    AccountKind.PSP_CLEARING: 1,
    AccountKind.WRITE_OFF: 1,
}


#: What an account is never changes once opened (database triggers, migration ledger 0006); only
#: its balance (a cache of its entries) and floor (the agreed overdraft) move. Accounts are never
#: deleted: their entries refer to them.
ACCOUNT_FROZEN_COLUMNS = ("id", "code", "kind", "customer_id", "currency", "normal_sign")


class Account(models.Model):
    code = models.CharField(_("code"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=AccountKind.choices)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    normal_sign = models.SmallIntegerField(_("normal sign"))
    balance = CentsField(_("balance"), default=0)
    # Lowest balance a voluntary debit may reach: 0, or minus the agreed overdraft. NULL: no floor.
    floor = CentsField(_("floor"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(floor__isnull=True) | models.Q(balance__gte=models.F("floor")),
                name="account_balance_above_floor",
            ),
            money_column_check("balance", name="account_balance_bounded", max_abs=MAX_STORED_CENTS),
            models.UniqueConstraint(
                fields=["customer", "kind"],
                condition=models.Q(customer__isnull=False),
                name="account_one_per_customer_and_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class TransactionKind(models.TextChoices):
    TOP_UP = "top_up", _("Top-up")
    INVOICE_ISSUED = "invoice_issued", _("Invoice issued")
    INVOICE_SETTLED = "invoice_settled", _("Invoice paid from the prepaid balance")
    CREDIT_NOTE = "credit_note", _("Credit note")
    REVERSAL = "reversal", _("Reversal")


class LedgerTransaction(ActorFields, AppendOnlyModel):
    """A journal transaction: ≥ 2 entries summing to zero, written at once, never changed.

    It is its own audit record: who (actor), why (reason), from what (idempotency key derived from
    the source, e.g. ``invoice:42:issued`` or ``topup:bank:<entry ref>``), when.
    """

    # Unique through the constraint below: a plain unique index (``unique=True`` would add a
    # second, pattern-ops index on PostgreSQL, written at every posting and never read).
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=TransactionKind.choices)
    description = models.CharField(_("description"), max_length=200)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("at"))
    # Indexed by the composite (customer, id) index below; one index less on the bulk path.
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    invoice = models.ForeignKey(
        "invoicing.Invoice",
        verbose_name=_("invoice"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_transactions",
    )
    # At most one reversal per transaction: the partial unique constraint below, which leaves out
    # the NULLs of every ordinary posting (a one-to-one field would index them all).
    reverses = models.ForeignKey(
        "self",
        verbose_name=_("reverses"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
        db_index=False,
    )

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="ledger_txn_idempotency_key"),
            models.UniqueConstraint(
                fields=["reverses"],
                condition=models.Q(reverses__isnull=False),
                name="ledger_txn_reversed_once",
            ),
        ]
        indexes = [models.Index(fields=["customer", "id"], name="ledger_txn_customer")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.description}"


class Entry(AppendOnlyModel):
    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    # Indexed by the composite (account, transaction) index below, which movements listings use.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    amount = CentsField(_("amount (debit > 0, credit < 0)"))
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        indexes = [models.Index(fields=["account", "transaction"], name="ledger_entry_account")]
        constraints = [money_column_check("amount", name="entry_amount_whole_cents")]

    def __str__(self) -> str:
        return f"{self.account} {self.amount}"
