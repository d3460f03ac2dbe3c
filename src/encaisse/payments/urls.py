# SPDX-License-Identifier: AGPL-3.0-or-later
from django.urls import path

from . import webhooks

app_name = "payments"
urlpatterns = [path("<slug:provider>/events/", webhooks.receive, name="events")]
