# SPDX-License-Identifier: AGPL-3.0-or-later
from django.urls import path, re_path

from .errors import not_found
from .v1 import api

# The catch-all answers unknown API paths in the API's JSON error shape, not Django's HTML page.
urlpatterns = [path("v1/", api.urls), re_path(r"", not_found, name="api-not-found")]
