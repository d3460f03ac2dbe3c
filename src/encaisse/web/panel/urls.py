# SPDX-License-Identifier: AGPL-3.0-or-later
"""URLs of the customer panel (mounted at ``/panel/``). Paths are the same in every language."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import dashboard, invoices, movements, payment_methods
from .auth import PanelLoginView, password_reset_views

app_name = "panel"
_reset = password_reset_views()

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("login/", PanelLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="panel:login"), name="logout"),
    path("password-reset/", _reset["reset"], name="password_reset"),
    path("password-reset/sent/", _reset["done"], name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", _reset["confirm"], name="password_reset_confirm"),
    path("password-reset/done/", _reset["complete"], name="password_reset_complete"),
    path("invoices/", invoices.invoice_list, name="invoices"),
    path("invoices/<int:pk>/", invoices.invoice_detail, name="invoice"),
    path("invoices/<int:pk>/pdf/", invoices.invoice_pdf, name="invoice_pdf"),
    path("payment-methods/", payment_methods.payment_methods, name="payment_methods"),
    path("payment-methods/settings/", payment_methods.billing_settings, name="billing_settings"),
    path("movements/", movements.movements, name="movements"),
    path("movements.csv", movements.movements_csv, name="movements_csv"),
]
