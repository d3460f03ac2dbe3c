# SPDX-License-Identifier: AGPL-3.0-or-later
"""Back-office for panel logins: staff give a person access to a customer's panel, or revoke it.

Creating a login goes through ``customers.services.create_panel_login`` (audited); the person then
receives an invitation e-mail to choose a password, so staff never see nor choose it. Revoking
deactivates the user (the audit trail keeps who had access); nothing is deleted.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.exceptions import EncaisseError
from encaisse.customers.models import Customer, CustomerLogin
from encaisse.customers.services import create_panel_login
from encaisse.web.panel.auth import send_invitation


class CustomerLoginForm(forms.ModelForm):
    email = forms.EmailField(
        label=_("E-mail"),
        help_text=_("The person receives an e-mail to choose a password."),
    )

    class Meta:
        model = CustomerLogin
        fields = ("customer",)

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip().lower()
        if get_user_model().objects.filter(username=email).exists():
            raise forms.ValidationError(
                _("“%(value)s” already has a login."), params={"value": email}
            )
        return email


@admin.register(CustomerLogin)
class CustomerLoginAdmin(admin.ModelAdmin):
    form = CustomerLoginForm
    list_display = ("login_email", "customer", "active", "last_login", "created_at")
    list_select_related = ("user", "customer")
    search_fields = ("user__username", "customer__number", "customer__name")
    autocomplete_fields = ("customer",)
    actions = ("revoke",)

    @admin.display(description=_("e-mail"), ordering="user__username")
    def login_email(self, obj: CustomerLogin) -> str:
        return obj.user.get_username()

    @admin.display(description=_("active"), boolean=True)
    def active(self, obj: CustomerLogin) -> bool:
        return obj.user.is_active

    @admin.display(description=_("last sign-in"))
    def last_login(self, obj: CustomerLogin) -> Any:
        return obj.user.last_login

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        customer: Customer = form.cleaned_data["customer"]
        email = form.cleaned_data["email"]
        try:
            login = create_panel_login(customer, email, actor=Actor.staff(request.user))
        except EncaisseError as exc:  # taken meanwhile by another request
            messages.error(request, str(exc))
            return
        obj.pk, obj.user, obj.created_at = login.pk, login.user, login.created_at
        send_invitation(email, language=customer.language)
        messages.success(request, gettext("Invitation sent to %(email)s.") % {"email": email})

    @admin.action(description=_("Revoke panel access"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[CustomerLogin]) -> None:
        for login in queryset.select_related("user", "customer"):
            if login.user.is_active:
                login.user.is_active = False
                login.user.save(update_fields=["is_active"])
                audit.record(
                    "encaisse.customer.login_revoked",
                    actor=Actor.staff(request.user),
                    obj=login.customer,
                    email=login.user.get_username(),
                )
        messages.success(request, gettext("Panel access revoked."))
