# SPDX-License-Identifier: AGPL-3.0-or-later
from django.apps import AppConfig
from django.core.checks import Tags, register
from django.utils.translation import gettext_lazy as _

from . import checks


class CustomersConfig(AppConfig):
    name = "encaisse.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        # Deployment only: development runs with the example seller (see customers/checks.py).
        register(checks.seller_identity, Tags.security, checks.TAG, deploy=True)
