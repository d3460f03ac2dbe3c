# SPDX-License-Identifier: AGPL-3.0-or-later
"""Customers of the provider: legal identity, structured address, language."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


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
