# SPDX-License-Identifier: AGPL-3.0-or-later
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicingConfig(AppConfig):
    name = "encaisse.invoicing"
    label = "invoicing"
    verbose_name = _("Invoicing")

    def ready(self) -> None:
        # Imported here, not at the top: tasks import models, which need the app registry ready.
        from . import hooks, tasks  # noqa: PLC0415

        hooks.hooks.register(tasks.PdfHook())
