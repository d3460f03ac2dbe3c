# SPDX-License-Identifier: AGPL-3.0-or-later
"""Customers of the provider: legal identity, structured address, language."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from encaisse.core.immutability import AppendOnlyModel

#: The customer's fields printed on its invoices (EN 16931 BG-7 buyer, BG-8 address), which
#: :class:`BillingIdentity` versions.
IDENTITY_FIELDS = (
    "number",
    "name",
    "kind",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "vat_number",
    "siret",
)


class CustomerKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    COMPANY = "company", _("Company")
    PUBLIC_BODY = "public_body", _("Public body")


class Language(models.TextChoices):
    FR = "fr", _("French")
    EN = "en", _("English")


class Customer(models.Model):
    """A customer account of the hosting provider.

    The ``number`` is what customers write in transfer comments; it carries a check digit (see
    ``customers.numbers``). Money is not here: balances live in the ledger's accounts.
    """

    number = models.CharField(_("customer number"), max_length=16, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"))
    kind = models.CharField(_("kind"), max_length=16, choices=CustomerKind.choices)
    language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.FR
    )
    address_line1 = models.CharField(_("street"), max_length=140)
    address_line2 = models.CharField(_("address complement"), max_length=140, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16)
    city = models.CharField(_("town"), max_length=70)
    country = models.CharField(_("country"), max_length=2, default="FR")
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    # Chorus Pro "code service" of the public body (BT-10 buyer reference), ≤ 100 characters.
    service_code = models.CharField(
        _("Chorus Pro service code"),
        max_length=100,
        blank=True,
        help_text=_("Only if your administration uses one."),
    )
    external_id = models.CharField(
        _("external id"), max_length=100, blank=True, help_text=_("Id in the hosting platform.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="customer_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def siren(self) -> str:
        return self.siret[:9]


class CustomerLogin(models.Model):
    """A person who may sign in to the customer panel of one customer account.

    Panel logins are ordinary Django users (password hashing, reset tokens, sessions) that are
    never staff; this link is what every panel view resolves to find *its* customer, and the only
    way a request reaches a customer's objects (ownership is checked by construction).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="customer_login",
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="logins"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("panel login")
        verbose_name_plural = _("panel logins")

    def __str__(self) -> str:
        return f"{self.user} → {self.customer.number}"


class BillingIdentity(AppendOnlyModel):
    """One version of a customer's identity as printed on invoices (:data:`IDENTITY_FIELDS`).

    An issued invoice shows the buyer as it was when it was issued (CGI art. 242 nonies A), so it
    refers to the version then current, the one with the highest id of its customer. The database
    writes the versions itself (``customers.identity``): a first one when a customer is created
    and a new one whenever a printed field changes, whoever changes it (service, admin, raw SQL).
    Versions are shared: a monthly run of a million invoices writes an id per invoice, not a
    million copies of unchanged names and addresses.
    """

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="identities",
        db_index=False,  # the "billing_identity_latest" index starts with it
    )
    number = models.CharField(_("customer number"), max_length=16)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=CustomerKind.choices)
    address_line1 = models.CharField(_("street"), max_length=140)
    address_line2 = models.CharField(_("address complement"), max_length=140, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16)
    city = models.CharField(_("town"), max_length=70)
    country = models.CharField(_("country"), max_length=2)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    created_at = models.DateTimeField(_("valid from"), db_default=Now())

    class Meta:
        verbose_name = _("billing identity")
        verbose_name_plural = _("billing identities")
        indexes = [models.Index(fields=["customer", "id"], name="billing_identity_latest")]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def as_dict(self) -> dict[str, str]:
        """The printed fields, as the PDF, the API and Factur-X read them."""
        return {name: getattr(self, name) for name in IDENTITY_FIELDS}
