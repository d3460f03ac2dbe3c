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


class ChargeAlreadyInvoiced(InvoicingError):
    message = _("This charge is already on invoice %(number)s and can no longer change.")
    code = "charge_invoiced"


class NothingToCredit(InvoicingError):
    message = _("Invoice %(number)s has nothing left to credit.")
    code = "nothing_to_credit"
