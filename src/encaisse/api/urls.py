# SPDX-License-Identifier: AGPL-3.0-or-later
from django.urls import path

from .v1 import api

urlpatterns = [path("v1/", api.urls)]
