# SPDX-License-Identifier: AGPL-3.0-or-later
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from encaisse.core import periodic
from encaisse.invoicing.hooks import hooks as issuance_hooks
from encaisse.payments.hooks import hooks as payment_hooks


class NotificationsConfig(AppConfig):
    name = "encaisse.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        """Plug the e-mails into invoicing and payments, the outbox pass into the worker."""
        # Imported here, not at the top: the hooks import models, which need the apps loaded.
        from . import hooks  # noqa: PLC0415

        issuance_hooks.register(hooks.IssuedDocumentEmail())
        payment_hooks.register(hooks.PaymentEmail())
        periodic.jobs.register(hooks.outbox_job())
