# SPDX-License-Identifier: AGPL-3.0-or-later
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicingConfig(AppConfig):
    name = "encaisse.invoicing"
    label = "invoicing"
    verbose_name = _("Invoicing")
