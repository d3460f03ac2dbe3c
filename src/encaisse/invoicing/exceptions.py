# SPDX-License-Identifier: AGPL-3.0-or-later
from django.utils.translation import gettext_lazy as _

from encaisse.core.exceptions import EncaisseError, ValidationError


class InvoicingError(EncaisseError):
    code = "invoicing_error"


class UnknownVatRate(ValidationError):
    message = _("%(rate)s %% is not a VAT rate this provider invoices (allowed: %(allowed)s).")
    code = "unknown_vat_rate"


class InvalidAmount(ValidationError):
    message = _("%(field)s must be a positive decimal number with at most %(places)s decimals.")
    code = "invalid_amount"


class InvalidPeriod(ValidationError):
    message = _("The service period must start on or before its end.")
    code = "invalid_period"


class ImplausiblePeriod(ValidationError):
    message = _(
        "The service period %(start)s – %(end)s is not plausible: it must start on or after "
        "%(earliest)s, last at most %(years)s years and end by %(latest)s."
    )
    code = "implausible_period"


class ChargeAlreadyInvoiced(InvoicingError):
    message = _("This charge is already on invoice %(number)s and can no longer change.")
    code = "charge_invoiced"


class NothingToCredit(InvoicingError):
    message = _("Invoice %(number)s has nothing left to credit.")
    code = "nothing_to_credit"


class LineTooLarge(ValidationError):
    message = _("A charge line may be at most %(max)s (this one: %(amount)s).")
    code = "line_too_large"


class InvoiceTooLarge(ValidationError):
    message = _(
        "With this charge, the customer's next invoice would total %(total)s with VAT, above the "
        "%(max)s an invoice may reach. Issue an invoice for the charges already recorded first."
    )
    code = "invoice_too_large"
