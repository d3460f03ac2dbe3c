# SPDX-License-Identifier: AGPL-3.0-or-later
from django.utils.translation import gettext_lazy as _

from encaisse.core.exceptions import EncaisseError, ValidationError


class PaymentError(EncaisseError):
    code = "payment_error"


class ChequeRefused(ValidationError):
    message = _(
        "Cheques are not accepted: any cheque received is destroyed. Please pay by card, PayPal, "
        "bank transfer (with your customer or invoice number in the comment) or automatic debit."
    )
    code = "cheque_refused"


class UnknownPaymentMethod(ValidationError):
    message = _("“%(value)s” is not a payment method accepted here.")
    code = "unknown_payment_method"


class InvalidTransition(PaymentError):
    message = _("A payment in state %(state)s cannot become %(target)s.")
    code = "invalid_transition"


class CollectionInFlight(PaymentError):
    message = _("A payment of invoice %(number)s is already in progress.")
    code = "collection_in_flight"
    http_status = 409
