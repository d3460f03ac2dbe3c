# SPDX-License-Identifier: AGPL-3.0-or-later
"""Signing in to the customer panel: e-mail and password, throttled, language from the profile.

Django's own views do the work (session rotation on login, CSRF, password reset tokens that
expire after ``PASSWORD_RESET_TIMEOUT``); this module adds the throttle shared with the
back-office (:mod:`encaisse.web.signin`: counted before the password, one generic refusal) and
the customer's preferred language. A staff account cannot use the panel sign-in, and the
back-office has its own. Reset e-mails are throttled per address and per client, silently: the
page answers the same.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.http import HttpResponse
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from encaisse.customers.models import CustomerLogin
from encaisse.customers.seller import current_seller
from encaisse.web import throttle
from encaisse.web.language import set_language_cookie
from encaisse.web.signin import ThrottledAuthenticationForm

logger = logging.getLogger(__name__)


class PanelAuthenticationForm(ThrottledAuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput({"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {  # noqa: RUF012 - Django's own declaration is a plain class attribute
        **AuthenticationForm.error_messages,
        # The one refusal, whatever failed (see encaisse.web.signin).
        "invalid_login": _("Wrong e-mail or password."),
    }

    def clean_username(self) -> str:
        """Logins are stored lower-case (see ``create_panel_login``): match them the same way."""
        return str(self.cleaned_data["username"]).strip().lower()

    def confirm_login_allowed(self, user: Any) -> None:
        """A staff account or a user without a customer login has no panel (refused as a wrong
        password: the panel must not confirm a staff password)."""
        super().confirm_login_allowed(user)
        if user.is_staff or not CustomerLogin.objects.filter(user=user).exists():
            raise forms.ValidationError("not a panel login", code="not_customer")


class PanelLoginView(auth_views.LoginView):
    template_name = "panel/login.html"
    authentication_form = PanelAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        login = CustomerLogin.objects.select_related("customer").get(user=form.get_user())
        language = login.customer.language
        translation.activate(language)
        set_language_cookie(response, language)  # Secure in production (settings)
        return response


class _PanelUsersResetForm(PasswordResetForm):
    email = forms.EmailField(label=_("E-mail"), max_length=254)

    def get_users(self, email: str) -> Any:
        """Only panel users: staff reset their password through an administrator."""
        return (u for u in super().get_users(email) if not u.is_staff)


class PanelPasswordResetForm(_PanelUsersResetForm):
    def save(self, *args: Any, **kwargs: Any) -> None:
        """Send the link unless this address or this client asked too often (finding 8: twenty
        e-mails to one address in a second). Refused silently: the page says the same as for an
        unknown address, so nothing is revealed."""
        email = self.cleaned_data["email"]
        if not throttle.admit_reset(email, kwargs.get("request")):  # Django passes keywords
            logger.warning("Password reset throttled: %r", email)
            return
        super().save(*args, **kwargs)


class PanelPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form: Any) -> HttpResponse:
        """A password chosen through the e-mailed link unlocks the login (see the throttle)."""
        response = super().form_valid(form)
        throttle.password_reset_done(form.user.get_username())
        return response


class _InvitationForm(_PanelUsersResetForm):
    def get_users(self, email: str) -> Any:
        """The new login, whose password is still unusable (a reset would skip it)."""
        users = get_user_model()._default_manager.filter(
            username=email.strip().lower(), is_active=True, is_staff=False
        )
        return iter(users)


def send_invitation(email: str, *, language: str) -> None:
    """E-mail a new panel login the link to choose its password (same token as a reset).

    The link is Django's password-reset link (single use, valid ``PASSWORD_RESET_TIMEOUT``), sent
    to the panel address of ``ENCAISSE_PUBLIC_URL`` in the customer's language.
    """
    public = urlsplit(str(settings.ENCAISSE_PUBLIC_URL))
    form = _InvitationForm({"email": email})
    if not form.is_valid():
        return
    with translation.override(language):
        form.save(
            domain_override=public.netloc,
            use_https=public.scheme == "https",
            subject_template_name="panel/email/invitation_subject.txt",
            email_template_name="panel/email/invitation.txt",
            extra_email_context={"seller_name": current_seller().name},
        )


def password_reset_views() -> dict[str, Any]:
    return {
        "reset": auth_views.PasswordResetView.as_view(
            template_name="panel/password_reset.html",
            email_template_name="panel/email/password_reset.txt",
            subject_template_name="panel/email/password_reset_subject.txt",
            form_class=PanelPasswordResetForm,
            success_url=reverse_lazy("panel:password_reset_done"),
        ),
        "done": auth_views.PasswordResetDoneView.as_view(
            template_name="panel/password_reset_done.html"
        ),
        "confirm": PanelPasswordResetConfirmView.as_view(
            template_name="panel/password_reset_confirm.html",
            success_url=reverse_lazy("panel:password_reset_complete"),
        ),
        "complete": auth_views.PasswordResetCompleteView.as_view(
            template_name="panel/password_reset_complete.html"
        ),
    }
