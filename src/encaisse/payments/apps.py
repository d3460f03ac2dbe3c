# SPDX-License-Identifier: AGPL-3.0-or-later
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "encaisse.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from . import collection

        collection.register_builtin_methods()
