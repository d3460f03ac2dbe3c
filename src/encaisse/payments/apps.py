# SPDX-License-Identifier: AGPL-3.0-or-later
import datetime as dt

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "encaisse.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        # Imported here, not at the top: these modules import models, which need the app
        # registry ready.
        from encaisse.core import periodic  # noqa: PLC0415
        from encaisse.invoicing import hooks  # noqa: PLC0415

        from . import collection, events, tasks  # noqa: PLC0415
        from .providers import collection as provider_collection  # noqa: PLC0415

        collection.register_builtin_methods()
        provider_collection.install()
        hooks.hooks.register(tasks.CollectionHook())
        # Events stored but not handled (a crash between the two, a provider that failed).
        periodic.jobs.register(
            periodic.PeriodicJob(
                "payments.handle_pending_events",
                dt.timedelta(minutes=1),
                events.handle_pending_events,
            )
        )
