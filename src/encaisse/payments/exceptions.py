# SPDX-License-Identifier: AGPL-3.0-or-later
"""Errors of payments and providers, each with a default message (django-oscar's family).

``ProviderError`` and its children are what a provider raises; the services translate them into
nothing moved: money moves only once the provider's truth says so.
"""

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
    http_status = 409


class CollectionInFlight(PaymentError):
    message = _("A payment of invoice %(number)s is already in progress.")
    code = "collection_in_flight"
    http_status = 409


class RefundRefused(PaymentError):
    message = _("This refund is not possible: %(why)s")
    code = "refund_refused"


class ProviderError(PaymentError):
    """The provider could not be asked, or answered something we cannot act on."""

    message = _("The payment provider could not complete the operation.")
    code = "provider_error"
    http_status = 502


class ProviderUnavailable(ProviderError):
    """Timeout or server error: the outcome is **unknown**, never a failure (re-read it later)."""

    message = _("The payment provider did not answer; the payment will be checked again.")
    code = "provider_unavailable"
    http_status = 503


class ProviderMismatch(ProviderError):
    """The provider's payment does not match ours (amount, currency): nothing is credited."""

    message = _("The provider's payment %(reference)s does not match payment %(payment)s.")
    code = "provider_mismatch"


class InvalidEvent(PaymentError):
    """An event that cannot be read: nothing is stored, nothing changes."""

    message = _("This payment provider event cannot be read.")
    code = "invalid_event"
    http_status = 400


class ForgedEvent(InvalidEvent):
    """An event whose signature does not verify: nothing is stored, nothing changes."""

    message = _("This payment provider event is not signed by the provider.")
    code = "forged_event"


class CardRefused(ValidationError):
    """A card of a brand we do not take (American Express, Discover…): refused before any
    charge, whatever the provider would accept."""

    message = _(
        "This card (%(brand)s) is not accepted: we accept CB, Visa and Mastercard cards only."
    )
    code = "card_refused"


class CardSetupIncomplete(PaymentError):
    """The provider has not confirmed the card yet (authentication under way, abandoned)."""

    message = _("Your card could not be registered yet: please try again.")
    code = "card_setup_incomplete"
    http_status = 409
