# SPDX-License-Identifier: AGPL-3.0-or-later
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("encaisse.api.urls")),
    path("panel/", include("encaisse.web.panel.urls")),
    path("payments/", include("encaisse.payments.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("encaisse.web.urls")),
]
