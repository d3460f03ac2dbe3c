# SPDX-License-Identifier: AGPL-3.0-or-later
"""The back-office site: Django's admin with a second factor and a dashboard of totals.

``StaffAdminSite`` is ``admin.site`` (see ``StaffAdminConfig`` in ``web.apps``); the other modules
of this package register their model admins on it. While ``settings.ENCAISSE_STAFF_2FA`` is on,
its login form asks for the 6-digit code of the staff user's authenticator app and
:meth:`StaffAdminSite.has_permission` also requires the session to have been verified by a device
(django-otp's middleware sets ``request.user.is_verified``), so a session opened with a password
alone, from any other login page, does not open the back-office. When the setting is off the site
is Django's plain admin and the form has no code field.

Sign-in goes through the throttle shared with the panel (:mod:`encaisse.web.signin`): counted
before the password is checked, and one refusal whatever failed, the code included, so that a
right password with a wrong code does not reveal that the password was right.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from encaisse.invoicing.selectors import open_invoice_totals, recent_billing_runs
from encaisse.ledger.selectors import customer_account_totals
from encaisse.web.signin import ThrottledAuthenticationForm

from .second_factor import SecondFactorError, second_factor_required, verify_totp_code

#: The one refusal with the second factor on: wrong user name, password or code alike.
INVALID_LOGIN_WITH_CODE = _(
    "Wrong user name, password or code. Enter the current 6-digit code of your authenticator "
    "app; if none is set up for your account, ask an administrator."
)


class StaffLoginForm(ThrottledAuthenticationForm, AdminAuthenticationForm):
    """User name, password and, with the second factor on, the current code of the app."""

    otp_token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=12,
        help_text=_("6 digits, renewed every 30 seconds."),
        error_messages={"required": _("Enter the 6-digit code from your authenticator app.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}
        ),
    )

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.asks_code = second_factor_required()
        if self.asks_code:
            self.error_messages = {**self.error_messages, "invalid_login": INVALID_LOGIN_WITH_CODE}
        else:
            del self.fields["otp_token"]

    def has_every_credential(self) -> bool:
        """Without a code the password is not even checked (the field error asks for it)."""
        return not self.asks_code or bool(self.cleaned_data.get("otp_token"))

    def confirm_login_allowed(self, user: Any) -> None:
        """A staff account, then its code: run only once the password is right, so no device
        is probed for a stranger. Any refusal becomes the one generic error (see the base)."""
        super().confirm_login_allowed(user)
        if not self.asks_code:
            return
        try:
            # django-otp's login hook (user_logged_in) stores this device in the session.
            user.otp_device = verify_totp_code(user, self.cleaned_data["otp_token"])
        except SecondFactorError as exc:
            raise forms.ValidationError(str(exc), code=exc.code) from exc


class StaffAdminSite(admin.AdminSite):
    site_header = _("Encaisse back-office")
    site_title = _("Encaisse")
    index_title = _("Customers, invoices and money")
    login_form = StaffLoginForm
    login_template = "admin/encaisse/login.html"
    index_template = "admin/encaisse/index.html"

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        if not second_factor_required():
            return True
        is_verified = getattr(request.user, "is_verified", None)  # set by OTPMiddleware
        return bool(is_verified is not None and is_verified())

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        return {**super().each_context(request), "second_factor_required": second_factor_required()}

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """The app list, with the dashboard of totals above it (three aggregate queries)."""
        accounts = customer_account_totals()
        invoices = open_invoice_totals(today=timezone.localdate())
        dashboard = {
            "accounts": accounts,
            "open_invoices": invoices,
            # What customers owe beyond their open invoices: reversal debts (chargebacks…).
            "other_debts": accounts.receivable - invoices.amount,
            "billing_runs": recent_billing_runs(limit=5),
        }
        return super().index(request, {**dashboard, **(extra_context or {})})
