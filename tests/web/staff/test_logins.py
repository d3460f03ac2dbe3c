# SPDX-License-Identifier: AGPL-3.0-or-later
"""Staff give a person access to a customer's panel: the person chooses the password by e-mail."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.urls import reverse

from encaisse.core.actors import Actor
from encaisse.core.models import AuditLog
from encaisse.customers.models import CustomerLogin
from encaisse.customers.services import create_panel_login


def test_staff_invite_a_panel_login_who_then_chooses_a_password(
    admin_client, make_customer, mailoutbox, client, settings
):
    settings.ENCAISSE_PUBLIC_URL = "https://factu.example"
    customer = make_customer(language="fr")
    response = admin_client.post(
        reverse("admin:customers_customerlogin_add"),
        {"customer": customer.pk, "email": "Compta@Client.Example"},
    )
    assert response.status_code == 302
    login = CustomerLogin.objects.get(customer=customer)
    assert login.user.username == "compta@client.example"
    assert not login.user.has_usable_password()
    assert AuditLog.objects.filter(action="encaisse.customer.login_created").exists()
    [mail] = mailoutbox
    assert mail.to == ["compta@client.example"]
    assert "Choisissez votre mot de passe" in mail.body
    path = re.search(r"https://factu\.example(/panel/password-reset/\S+/)", mail.body).group(1)
    page = client.get(path, follow=True)
    password = "a passphrase for the panel 7"
    done = client.post(
        page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )
    assert done.status_code == 302
    signed_in = client.post(
        reverse("panel:login"), {"username": "compta@client.example", "password": password}
    )
    assert signed_in.status_code == 302


def test_an_email_with_a_login_already_is_refused(admin_client, make_customer, mailoutbox):
    first, second = make_customer(), make_customer()
    create_panel_login(first, "shared@example.org", actor=Actor.system("tests"))
    response = admin_client.post(
        reverse("admin:customers_customerlogin_add"),
        {"customer": second.pk, "email": "shared@example.org"},
    )
    assert response.status_code == 200
    assert CustomerLogin.objects.filter(customer=second).count() == 0
    assert mailoutbox == []


def test_revoking_access_deactivates_the_login(admin_client, make_customer, client):
    login = create_panel_login(
        make_customer(), "gone@example.org", actor=Actor.system("tests"), password="pw-12345-xyz"
    )
    response = admin_client.post(
        reverse("admin:customers_customerlogin_changelist"),
        {"action": "revoke", "_selected_action": [login.pk]},
    )
    assert response.status_code == 302
    assert not get_user_model().objects.get(pk=login.user.pk).is_active
    assert AuditLog.objects.filter(action="encaisse.customer.login_revoked").exists()
    refused = client.post(
        reverse("panel:login"), {"username": "gone@example.org", "password": "pw-12345-xyz"}
    )
    assert refused.status_code == 200
