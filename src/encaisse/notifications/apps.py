# SPDX-License-Identifier: AGPL-3.0-or-later
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "encaisse.notifications"
    label = "notifications"
    verbose_name = _("Notifications")
