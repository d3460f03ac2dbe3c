# SPDX-License-Identifier: AGPL-3.0-or-later
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "encaisse.ledger"
    label = "ledger"
    verbose_name = _("Ledger")
