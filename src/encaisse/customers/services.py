# SPDX-License-Identifier: AGPL-3.0-or-later
"""Creating and updating customers (identity validated, accounts opened, number allocated)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.exceptions import Conflict, ValidationError
from encaisse.core.money import MoneyError, parse_decimal
from encaisse.core.sequences import allocate
from encaisse.core.text import clean_text
from encaisse.ledger.accounts import open_customer_accounts

from . import numbers, validators
from .models import Customer, CustomerKind, CustomerLogin, Language


@dataclass(frozen=True)
class CustomerData:
    """What identifies a customer; validated as a whole by :func:`clean_customer_data`."""

    name: str
    email: str
    kind: str
    address_line1: str
    postal_code: str
    city: str
    country: str = "FR"
    address_line2: str = ""
    vat_number: str = ""
    siret: str = ""
    service_code: str = ""
    language: str = Language.FR
    external_id: str = ""


class CustomerExists(Conflict):
    message = _("A customer with the external id “%(external_id)s” already exists: %(number)s.")
    code = "customer_exists"


def _label(name: str) -> str:
    return str(getattr(Customer._meta.get_field(name), "verbose_name", name))


def clean_customer_data(data: CustomerData) -> dict[str, str]:
    """Every field stripped and free of control characters (``core.text``), then checked.

    These are the values stored, printed on invoices and sent to Chorus Pro: whatever the way in
    (API, panel, back-office), nothing else reaches the database.
    """
    values = {f.name: clean_text(getattr(data, f.name), field=_label(f.name)) for f in fields(data)}
    if not values["name"]:
        raise ValidationError(_("The name is required."))
    try:
        validate_email(values["email"])
    except DjangoValidationError as exc:
        raise ValidationError(
            _("“%(value)s” is not a valid e-mail address."), value=values["email"]
        ) from exc
    if values["kind"] not in CustomerKind.values:
        raise ValidationError(_("“%(value)s” is not a customer kind."), value=values["kind"])
    if values["language"] not in Language.values:
        raise ValidationError(
            _("“%(value)s” is not a supported language."), value=values["language"]
        )
    if not values["address_line1"] or not values["city"]:
        raise ValidationError(_("The street and town of the address are required."))
    values["country"] = validators.clean_country(values["country"])
    values["postal_code"] = validators.clean_postal_code(values["postal_code"], values["country"])
    if values["vat_number"]:
        values["vat_number"] = validators.clean_vat_number(values["vat_number"])
    return _clean_chorus_fields(values)


def _clean_chorus_fields(values: dict[str, str]) -> dict[str, str]:
    """SIRET (required for public bodies: Chorus Pro routes by it) and the service code."""
    if values["siret"]:
        values["siret"] = validators.clean_siret(values["siret"])
    elif values["kind"] == CustomerKind.PUBLIC_BODY:
        raise ValidationError(_("A public body needs its SIRET (for Chorus Pro)."))
    if values["service_code"]:
        if values["kind"] != CustomerKind.PUBLIC_BODY:
            raise ValidationError(_("A Chorus Pro service code only applies to public bodies."))
        values["service_code"] = validators.clean_service_code(values["service_code"])
    return values


def _clean_overdraft(value: object) -> Decimal:
    try:
        amount = parse_decimal(value, places=2, field="overdraft")
    except MoneyError as exc:
        raise ValidationError(_("The overdraft must be a decimal amount such as 50.00.")) from exc
    if amount < 0:
        raise ValidationError(_("An overdraft cannot be negative."))
    return amount


def create_customer(
    data: CustomerData, *, actor: Actor, overdraft: Decimal | None = None
) -> Customer:
    """Create a customer with its number and its prepaid and receivable accounts."""
    values = clean_customer_data(data)
    granted = (
        settings.ENCAISSE_DEFAULT_OVERDRAFT if overdraft is None else _clean_overdraft(overdraft)
    )
    _refuse_taken_external_id(values["external_id"])
    try:
        with transaction.atomic():
            (sequence_value,) = allocate("customer", 1)
            customer = Customer.objects.create(
                number=numbers.format_number(sequence_value), **values
            )
            open_customer_accounts(customer, overdraft=granted)
            audit.record("encaisse.customer.created", actor=actor, obj=customer)
    except IntegrityError:
        # A concurrent request created the same external id between the check and the INSERT.
        _refuse_taken_external_id(values["external_id"])
        raise
    return customer


def _refuse_taken_external_id(external_id: str, *, other_than: Customer | None = None) -> None:
    """:class:`CustomerExists` when another customer has ``external_id`` (unique when not empty)."""
    if not external_id:
        return
    taken = Customer.objects.filter(external_id=external_id)
    if other_than is not None:
        taken = taken.exclude(pk=other_than.pk)
    number = taken.values_list("number", flat=True).first()
    if number is not None:
        raise CustomerExists(external_id=external_id, number=number)


def update_customer(customer: Customer, data: CustomerData, *, actor: Actor) -> Customer:
    """Change identity fields (issued invoices keep the buyer as it was when they were issued)."""
    values = clean_customer_data(data)
    _refuse_taken_external_id(values["external_id"], other_than=customer)
    try:
        with transaction.atomic():
            changed = {k: v for k, v in values.items() if getattr(customer, k) != v}
            for key, value in changed.items():
                setattr(customer, key, value)
            customer.save(update_fields=list(changed) or None)
            audit.record(
                "encaisse.customer.updated", actor=actor, obj=customer, fields=sorted(changed)
            )
    except IntegrityError:
        _refuse_taken_external_id(values["external_id"], other_than=customer)
        raise
    return customer


def create_panel_login(
    customer: Customer, email: str, *, actor: Actor, password: str | None = None
) -> CustomerLogin:
    """Let a person sign in to the customer panel of ``customer`` with ``email``.

    Without a password the login has an unusable one and the person chooses it through the
    "forgotten password" e-mail. The e-mail is the login name; it can serve only one customer.
    """
    user_model = get_user_model()
    email = clean_text(email, field=_label("email"))
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise ValidationError(_("“%(value)s” is not a valid e-mail address."), value=email) from exc
    username = email.strip().lower()
    with transaction.atomic():
        if user_model.objects.filter(username=username).exists():
            raise ValidationError(_("“%(value)s” already has a login."), value=email)
        user = user_model.objects.create_user(username=username, email=username, password=password)
        login = CustomerLogin.objects.create(user=user, customer=customer)
        audit.record("encaisse.customer.login_created", actor=actor, obj=customer, email=username)
    return login
