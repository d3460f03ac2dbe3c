# SPDX-License-Identifier: AGPL-3.0-or-later
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _

from encaisse.core import periodic


class WebConfig(AppConfig):
    name = "encaisse.web"
    label = "web"
    verbose_name = _("Web")
    default = True  # this module also holds the admin's configuration below
    # Django's admin autodiscovery imports ``encaisse.web.admin``, which registers the whole
    # back-office (``encaisse.web.staff``): the apps under web hold no admin module.

    def ready(self) -> None:
        """Plug the clean-up of expired sign-in throttle counters into the worker."""
        # Imported here, not at the top: the throttle imports models, which need the apps loaded.
        from . import throttle  # noqa: PLC0415

        periodic.jobs.register(throttle.purge_job())


class StaffAdminConfig(admin_apps.AdminConfig):
    """Django's admin app with the staff site (second factor, dashboard) as ``admin.site``.

    Django's documented way to replace the default site: every ``@admin.register`` and
    ``admin.site`` in the project (and in django-otp's TOTP device admin) then use it.
    """

    default = False  # named in INSTALLED_APPS in place of "django.contrib.admin"
    default_site = "encaisse.web.staff.site.StaffAdminSite"
