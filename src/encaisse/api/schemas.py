# SPDX-License-Identifier: AGPL-3.0-or-later
"""Request and response schemas of the API, and the one way money crosses the wire.

Money, quantities and VAT rates travel as **decimal strings** (``"9.90"``) both ways. A JSON number
is refused with a 422 before any code runs: ``9.9`` has already been through a binary float by the
time the JSON parser hands it over, and money must stay exact (decisions.md §1). Request schemas
forbid unknown fields so a misspelt ``unit_prize`` is an error rather than a silent default.
Sign and range rules stay in the services; schemas check only what the wire format can express.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict, PlainSerializer, PlainValidator, WithJsonSchema
from pydantic import Field as PydanticField
from pydantic_core import PydanticCustomError

from encaisse.core import text
from encaisse.core.money import AmountTooLarge, MoneyError, parse_decimal
from encaisse.customers.models import CustomerKind, Language
from encaisse.customers.services import CustomerData
from encaisse.invoicing.models import InvoiceStatus
from encaisse.ledger.models import NORMAL_SIGN, AccountKind

DECIMAL_PATTERN = r"^[+-]?[0-9]{1,15}(\.[0-9]{1,12})?$"
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)


def _decimal_parser(places: int, signed: bool) -> Any:
    def parse(value: object) -> Decimal:
        if not isinstance(value, str):
            raise PydanticCustomError(
                "decimal_string",
                str(
                    _(
                        "must be a decimal number written as a JSON string, such as “9.90”; JSON "
                        "numbers are refused so that no float ever touches money"
                    )
                ),
            )
        text = value.strip()
        if not _DECIMAL_RE.match(text):
            raise PydanticCustomError(
                "decimal_string",
                str(_("“{value}” is not a decimal number such as “9.90”")),
                {"value": value},
            )
        try:
            amount = parse_decimal(text, places=places)
        except AmountTooLarge as exc:
            raise PydanticCustomError(
                "too_large", str(_("“{value}” is too large for an amount")), {"value": value}
            ) from exc
        except MoneyError as exc:
            raise PydanticCustomError(
                "decimal_places",
                str(_("“{value}” has more than {places} decimals")),
                {"value": value, "places": places},
            ) from exc
        if amount < 0 and not signed:
            raise PydanticCustomError("negative", str(_("must not be negative")))
        return amount

    return parse


def _parsed(places: int, *, signed: bool = True) -> PlainValidator:
    """Input decimal given as a string with at most ``places`` decimals.

    ``signed=False`` only where no service checks the sign yet (the overdraft).
    """
    return PlainValidator(_decimal_parser(places, signed))


def _described(example: str, places: int = 12) -> WithJsonSchema:
    """The JSON schema of a decimal string, saying how many decimals an input field takes.

    The input's own limit is in the documented pattern so that clients (and the Schemathesis
    fuzzing) see it; the parser still refuses more with its clearer "more than N decimals".
    """
    pattern = DECIMAL_PATTERN.replace("{1,12}", f"{{1,{places}}}")
    return WithJsonSchema({"type": "string", "pattern": pattern, "examples": [example]})


_AS_STRING = PlainSerializer(str, return_type=str)
AmountIn = Annotated[Decimal, _parsed(2), _AS_STRING, _described("9.90", 2)]
PriceIn = Annotated[Decimal, _parsed(4), _AS_STRING, _described("9.9000", 4)]
QuantityIn = Annotated[Decimal, _parsed(4), _AS_STRING, _described("1", 4)]
RateIn = Annotated[Decimal, _parsed(2), _AS_STRING, _described("20", 2)]
OverdraftIn = Annotated[Decimal, _parsed(2, signed=False), _AS_STRING, _described("50.00", 2)]
#: Any decimal leaving the API (amounts, quantities, rates): rendered as a string, never a number.
Money = Annotated[Decimal, _AS_STRING, _described("9.90")]


def _text_checker(*, multiline: bool, required: bool) -> AfterValidator:
    def check(value: str) -> str:
        character = text.control_character(value, multiline=multiline)
        if character is not None:
            raise PydanticCustomError("control_characters", text.message_for(character))
        if required and not value.strip():
            raise PydanticCustomError("blank", str(NOT_BLANK))
        return value

    return AfterValidator(check)


def _text_schema(pattern: str) -> Any:
    return PydanticField(json_schema_extra={"pattern": pattern})


NOT_BLANK = _("This field is required and cannot be only spaces.")
#: Text of one line: no control character at all (core.text), refused field by field with a 422.
Text = Annotated[
    str, _text_checker(multiline=False, required=False), _text_schema(text.SINGLE_LINE_PATTERN)
]
#: One line that must say something: whitespace alone is refused (e.g. an invoice line's name).
RequiredText = Annotated[
    str, _text_checker(multiline=False, required=True), _text_schema(text.REQUIRED_PATTERN)
]
#: Text that may span lines: TAB, LF and CR allowed, the other control characters refused.
MultilineText = Annotated[
    str, _text_checker(multiline=True, required=False), _text_schema(text.MULTILINE_PATTERN)
]


class RequestSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class FieldError(Schema):
    loc: list[str]
    message: str
    type: str


class ErrorOut(Schema):
    code: str = Field(examples=["unknown_vat_rate"])
    message: str
    errors: list[FieldError] | None = None


#: Every error a POST may answer: 400 is a body that is not JSON at all, 422 one that fails
#: validation (schema or service), 413 one over the size limit.
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
}
#: Every error a GET may answer: 404 for an unknown number (in the path or a filter), 422 for a
#: path or query refused by validation (control characters, ``page=0``, ``page=10**20``).
READ_ERRORS: dict[int, type[Schema]] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- Customers ------------------------------------------------------------------------------------
class CustomerIn(RequestSchema):
    name: RequiredText = Field(min_length=1, max_length=200)
    email: Text = Field(max_length=254, json_schema_extra={"format": "email"})
    kind: CustomerKind
    address_line1: RequiredText = Field(max_length=140)
    address_line2: Text = Field("", max_length=140)
    postal_code: Text = Field(max_length=16)
    city: RequiredText = Field(max_length=70)
    country: Text = Field("FR", max_length=2, description="ISO 3166 alpha-2 code")
    vat_number: Text = Field("", max_length=30, examples=["FR44732829320"])
    siret: Text = Field("", max_length=30, examples=["73282932000074"])
    service_code: Text = Field(
        "", max_length=100, description="Chorus Pro service code (public bodies only)"
    )
    language: Language = Language.FR
    external_id: Text = Field("", max_length=100, description="The customer's id on the platform")
    overdraft: OverdraftIn | None = Field(None, description="Overdraft granted (default: settings)")

    def to_data(self) -> CustomerData:
        values = self.model_dump(exclude={"overdraft"})
        values["kind"], values["language"] = self.kind.value, self.language.value
        return CustomerData(**values)


class CustomerOut(Schema):
    number: str
    name: str
    email: str
    kind: str
    address_line1: str
    address_line2: str
    postal_code: str
    city: str
    country: str
    vat_number: str
    siret: str
    service_code: str
    language: str
    external_id: str
    created_at: dt.datetime


class BalanceOut(Schema):
    customer: str
    currency: str
    prepaid: Money = Field(description="Prepaid balance (negative when the overdraft is used)")
    due: Money = Field(description="Amount left due on issued invoices")
    available: Money = Field(description="What the next debits may still take, overdraft included")


class MovementOut(Schema):
    """One movement of the prepaid account, signed from the customer's viewpoint (+ = credit)."""

    transaction: int
    date: dt.datetime
    kind: str
    description: str
    amount: Money
    reason: str

    @staticmethod
    def resolve_transaction(obj: Any) -> int:
        return obj.transaction_id

    @staticmethod
    def resolve_date(obj: Any) -> dt.datetime:
        return obj.transaction.created_at

    @staticmethod
    def resolve_kind(obj: Any) -> str:
        return obj.transaction.kind

    @staticmethod
    def resolve_description(obj: Any) -> str:
        return obj.transaction.description

    @staticmethod
    def resolve_reason(obj: Any) -> str:
        return obj.transaction.reason

    @staticmethod
    def resolve_amount(obj: Any) -> Decimal:
        # Entries are signed debit > 0; the prepaid account is credit-normal, so flip to the
        # customer's view where a top-up is +.
        return NORMAL_SIGN[AccountKind.PREPAID] * obj.amount


# --- Charges -------------------------------------------------------------------------------------
class ChargeIn(RequestSchema):
    customer: Text = Field(max_length=20, examples=["C1000014"])
    description: RequiredText = Field(min_length=1, max_length=200)
    quantity: QuantityIn = Decimal(1)
    unit_price: PriceIn = Field(description="Price excluding VAT, up to 4 decimals")
    vat_rate: RateIn = Field(description="VAT rate in percent, one the provider invoices")
    period_start: dt.date
    period_end: dt.date
    external_id: Text = Field("", max_length=100, description="Platform id; a repeat returns 200")


class ChargeOut(Schema):
    id: int
    customer: str
    description: str
    quantity: Money
    unit_price: Money
    vat_rate: Money
    amount: Money = Field(description="Quantity × unit price, excluding VAT, rounded to the cent")
    period_start: dt.date
    period_end: dt.date
    external_id: str
    invoice: str | None
    created_at: dt.datetime

    @staticmethod
    def resolve_customer(obj: Any) -> str:
        return obj.customer.number

    @staticmethod
    def resolve_invoice(obj: Any) -> str | None:
        return obj.invoice.number if obj.invoice_id else None


# --- Payments ------------------------------------------------------------------------------------
class TopUpIn(RequestSchema):
    amount: AmountIn
    method: Text = Field(max_length=40, examples=["bank_transfer", "card", "mandat_administratif"])
    reference: RequiredText = Field(
        min_length=1, max_length=120, description="Source's unique reference"
    )
    reason: MultilineText = Field("", max_length=1000)


class TopUpOut(Schema):
    transaction: int
    customer: str
    amount: Money
    method: str
    reference: str
    reason: str
    created_at: dt.datetime


# --- Invoices ------------------------------------------------------------------------------------
class InvoiceLineOut(Schema):
    description: str
    quantity: Money
    unit_price: Money
    vat_rate: Money
    amount: Money
    period_start: dt.date
    period_end: dt.date
    external_id: str


class VatLineOut(Schema):
    rate: str = Field(examples=["20.00"])
    base: str = Field(examples=["9.90"])
    vat: str = Field(examples=["1.98"])


class InvoiceOut(Schema):
    number: str
    kind: str
    customer: str
    issue_date: dt.date
    due_date: dt.date
    period_start: dt.date | None
    period_end: dt.date | None
    currency: str
    total_excl_vat: Money
    total_vat: Money
    total_incl_vat: Money
    paid: Money
    credited: Money
    amount_due: Money
    status: str = Field(examples=list(InvoiceStatus.values))

    @staticmethod
    def resolve_customer(obj: Any) -> str:
        return obj.customer.number


class InvoiceDetailOut(InvoiceOut):
    lines: list[InvoiceLineOut]
    vat_breakdown: list[VatLineOut]
    buyer: dict[str, Any] = Field(description="The buyer as printed on the invoice")
    credited_invoice: str | None
    has_pdf: bool

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_buyer(obj: Any) -> dict[str, Any]:
        return obj.buyer.as_dict()

    @staticmethod
    def resolve_credited_invoice(obj: Any) -> str | None:
        return obj.credited_invoice.number if obj.credited_invoice_id else None

    @staticmethod
    def resolve_has_pdf(obj: Any) -> bool:
        return bool(obj.pdf)


class IssuedInvoiceOut(Schema):
    invoice: InvoiceDetailOut | None
