# SPDX-License-Identifier: AGPL-3.0-or-later
"""The contract of a payment provider (card, PayPal, SEPA…), and what crosses its boundary.

In the spirit of pretix's ``BasePaymentProvider`` (pretix/pretix: src/pretix/base/payment.py),
with a dozen hooks instead of forty: a provider translates between our :class:`Payment` and the
provider's API; it never moves money. Money moves in ``payments.transitions`` once the provider's
truth (:meth:`PaymentProvider.fetch`, or what :meth:`PaymentProvider.collect` returns) says so,
and ``payments.sync.sync_payment`` brings a payment to that truth one allowed transition at a time.

Frozen dataclasses cross the boundary (Saleor's ``payment/interface.py``), amounts as ``Decimal``
(integer minor units are the provider client's business). The SDK or HTTP library of a provider is
imported by its ``client.py`` alone (conventions §4.6). Every provider passes the contract test
suite in ``tests/payments/contract.py``.

Who calls what:

========================  ===================================================================
``start_top_up``          the customer's request (panel), outside any database transaction
``collect``               the worker, after the transaction that claimed the payment committed
``fetch``                 the handling of a stored event, and the janitor
``refund``                staff (``payments.flows.request_refund``), outside any transaction
``parse_event``           the webhook view, before anything is stored
========================  ===================================================================
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings

from ..models import PaymentStatus

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from encaisse.core.actors import Actor
    from encaisse.customers.models import Customer

    from ..models import Payment


class ActionKind(enum.StrEnum):
    NONE = "none"
    REDIRECT = "redirect"  # send the customer to ``url`` (PayPal approval, a hosted page)
    # Confirm in the page with the provider's script (the name of a kind, not a secret): the
    # panel renders the provider's :attr:`PaymentProvider.card_form_template` (Stripe's
    # Payment Element), which posts the provider's token of the card, never its number.
    CLIENT_SECRET = "client_secret"  # noqa: S105


@dataclass(frozen=True, slots=True)
class NextAction:
    """What the customer must do next to complete a payment started on-session."""

    kind: ActionKind
    url: str = ""
    client_secret: str = ""


@dataclass(frozen=True, slots=True)
class StartedTopUp:
    payment: Payment
    action: NextAction


class RefundStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    """A refund as the provider knows it; only a succeeded one is booked."""

    reference: str
    amount: Decimal
    status: RefundStatus


class DisputeStatus(enum.StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class ProviderDispute:
    reference: str
    status: DisputeStatus


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    """The provider's truth about one payment, read now.

    ``status`` is where the charge itself stands: pending, requires_action, succeeded, failed or
    cancelled (decide on the capture, not on an order: PayPal's COMPLETED order may hold a
    DECLINED capture). What went back afterwards is in ``refunds`` and ``dispute``.
    """

    reference: str
    status: PaymentStatus
    amount: Decimal
    currency: str
    failure_reason: str = ""
    refunds: tuple[ProviderRefund, ...] = ()
    dispute: ProviderDispute | None = None


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """An event whose signature was verified: a *trigger* to re-read the payment it names.

    ``object_ref`` is the provider's reference of that payment ("" when the event is about no
    payment: it is stored and ignored), ``payment_id`` our id when the provider echoes it back
    (metadata), ``payload`` the decoded body, stored as received.
    """

    event_id: str
    event_type: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    object_ref: str = ""
    payment_id: int | None = None


def return_url(payment: Payment, *, cancelled: bool = False) -> str:
    """Where a provider's hosted page sends the customer back (PayPal approval, a redirect).

    The panel's page for the payment (``web.panel``): it re-reads the payment from the provider
    (``flows.refresh_payment``; the redirect itself proves nothing) and shows where it stands.
    ``cancelled``: the customer gave up at the provider."""
    base = str(getattr(settings, "ENCAISSE_PUBLIC_URL", "") or "http://127.0.0.1:8000")
    return f"{base.rstrip('/')}/panel/payments/{payment.pk}/return/" + (
        "?cancelled=1" if cancelled else ""
    )


@dataclass(frozen=True, slots=True)
class ProviderCard:
    """A card as the provider knows it once registered: its token and what identifies it to
    its holder, never its number. ``networks`` are all the networks it carries (Stripe's
    ``card.networks.available``: ``cartes_bancaires``, ``visa``, ``mastercard``, ``amex``…),
    ``preferred`` the one its holder chose ("" when not chosen)."""

    reference: str
    networks: tuple[str, ...]
    last4: str
    exp_month: int
    exp_year: int
    preferred: str = ""


@dataclass(frozen=True, slots=True)
class StartedCardSetup:
    """A card registration under way: the provider's reference of it (a SetupIntent) and what
    the customer must do in the page."""

    reference: str
    action: NextAction


class PaymentProvider(abc.ABC):
    """Contract of a payment provider. ``identifier`` and ``verbose_name`` are required.

    A provider is instantiated once, without arguments, from the dotted path listed in
    ``ENCAISSE_PAYMENT_PROVIDERS``, and registered under its ``identifier``: keep no
    per-request state on it; read settings and secrets in the methods or the constructor.
    """

    #: Unique, stable, short (``stripe``, ``paypal_checkout``): it names the provider's clearing account
    #: (``psp_clearing:<identifier>``), its idempotency keys and its stored payments and events.
    #: It must not be a :class:`~encaisse.payments.models.PaymentMethod` value.
    identifier: ClassVar[str]
    #: Shown to customers and staff.
    verbose_name: ClassVar[StrOrPromise]

    @property
    def collects_off_session(self) -> bool:
        """Can take a payment while the customer is away (saved card, SEPA mandate).

        Such a provider is also a collection method of the policy
        (``ENCAISSE_COLLECTION_POLICY`` lists its identifier) and :meth:`collect` must work."""
        return False

    @property
    def supports_refunds(self) -> bool:
        """:meth:`refund` works; staff see the refund action only then."""
        return False

    @property
    def test_mode(self) -> bool:
        """Talks to a sandbox: no real money moves. The panel says so."""
        return False

    @property
    def saves_cards(self) -> bool:
        """Registers cards (:meth:`start_card_setup`, :meth:`finish_card_setup`,
        :meth:`remove_card`) and charges them (:meth:`pay_with_card`, :meth:`collect`)."""
        return False

    #: The panel template of the card form (``ActionKind.CLIENT_SECRET``): it loads the
    #: provider's script, collects the card in the provider's fields and posts the card's token.
    card_form_template: ClassVar[str] = ""

    def card_form_context(self) -> dict[str, Any]:
        """What :attr:`card_form_template` needs besides the client secret (publishable key,
        script URL). Cheap: settings only. The panel adds the script's origin to the page's
        Content-Security-Policy from ``script_origin``."""
        return {}

    def is_available(self, customer: Customer) -> bool:
        """Whether ``customer`` may pay with this provider now (shown on the top-up page).

        Called while rendering pages, many times: **must be cheap**, read settings and the
        customer only, never call the provider."""
        return True

    @abc.abstractmethod
    def start_top_up(self, customer: Customer, amount: Decimal, *, actor: Actor) -> StartedTopUp:
        """Start a top-up of ``amount`` that the customer completes on-session.

        Called from the customer's request, **outside any database transaction**. Creates the
        pending payment first with ``transitions.open_payment`` (its own transaction), then asks
        the provider (send an idempotency key derived from the payment id), then records the
        provider's reference with ``transitions.set_reference``, and returns what the customer
        must do next (redirect URL, client secret).

        **Must not move money nor mark the payment succeeded**, even when the provider already
        says so: the payment succeeds through the handling of the provider's event or
        :meth:`fetch` (never from a browser redirect). Raises a ``ProviderError`` (nothing to do
        for the customer; the payment stays pending for the janitor)."""

    def collect(self, payment: Payment) -> ProviderPayment:
        """Charge a pending collection off-session (saved card, mandate) and return the truth.

        Called by the worker **after** the transaction that created ``payment`` committed,
        **never inside a transaction**; the caller applies the returned truth. Must be
        idempotent per payment (an idempotency key derived from ``payment.pk``): a retried job or
        the janitor may call it again when an answer was lost. A decline is a truth (status
        failed, ``failure_reason``), not an exception; an unknown outcome (timeout, 5xx) raises
        ``ProviderUnavailable`` and leaves the payment pending. **Must not** write to the
        database: only the caller does. Only for providers that :attr:`collects_off_session`.
        A provider that :attr:`saves_cards` charges ``payment.card`` (its chosen network); the
        bank asking for authentication is the truth ``requires_action``."""
        raise NotImplementedError(f"{self.identifier} does not collect off-session")

    @abc.abstractmethod
    def fetch(self, payment: Payment) -> ProviderPayment | None:
        """Read the provider's truth about ``payment`` now (``None``: the provider knows none).

        Called when an event about the payment is handled, and by the janitor for payments left
        pending. Outside any transaction; **must not** write to the database nor trust anything
        but the provider's answer (no event payload, no browser redirect)."""

    def refund(self, payment: Payment, amount: Decimal, reason: str) -> ProviderRefund:
        """Ask the provider to give ``amount`` of a succeeded payment back to the payer.

        Called for staff, outside any transaction, after the checks of
        ``payments.flows.request_refund``; returns the provider's refund (a reference unique per
        refund; send an idempotency key). **Must not** book anything: the caller, or the event
        of a refund that completes later, reverses the ledger through ``transitions``."""
        raise NotImplementedError(f"{self.identifier} does not refund")

    def pay_with_card(self, payment: Payment, card_reference: str, *, save: bool) -> NextAction:
        """Charge a pending top-up with the card the customer just entered in the provider's
        fields (``card_reference``: the provider's token, e.g. a PaymentMethod id).

        Called from the customer's request, outside any transaction. **Reads the card from the
        provider and refuses a network we do not take before any charge** (``cards.accepted``
        raises ``CardRefused``); ``save``: keep the card for later (the caller records it from
        :meth:`card_of`). Returns what the customer must still do (3-D Secure:
        ``CLIENT_SECRET``), ``NONE`` otherwise. Moves no money: the provider's event or
        :meth:`fetch` does."""
        raise NotImplementedError(f"{self.identifier} does not take cards")

    def resume_on_session(self, payment: Payment) -> NextAction:
        """The customer is back in the panel to complete a payment that ``requires_action``
        (the bank asked for authentication during an automatic debit). Outside transactions;
        returns the action to play in the page. Moves no money."""
        raise NotImplementedError(f"{self.identifier} has nothing to resume")

    def start_card_setup(self, customer: Customer, *, actor: Actor) -> StartedCardSetup:
        """Start registering a card for automatic debit without charging it (Stripe's
        SetupIntent, ``usage=off_session``): the bank authenticates it once, up front.
        Outside transactions; writes nothing to the database."""
        raise NotImplementedError(f"{self.identifier} does not save cards")

    def finish_card_setup(self, customer: Customer, reference: str) -> ProviderCard:
        """The card registered by the setup ``reference``, once the provider confirms it.

        Re-reads the setup from the provider (the page's word proves nothing); raises
        ``CardSetupIncomplete`` while it is not confirmed and ``CardRefused`` for a network we
        do not take (then detaches it). Outside transactions; writes nothing."""
        raise NotImplementedError(f"{self.identifier} does not save cards")

    def card_of(self, payment: Payment) -> ProviderCard | None:
        """The card a succeeded top-up saved (``save=True`` in :meth:`pay_with_card`), or
        ``None``. Outside transactions; writes nothing."""
        return None

    def remove_card(self, reference: str) -> None:
        """Forget the card at the provider (detach it). Called after the card was marked
        removed on our side, outside transactions; idempotent (an unknown card is no error)."""
        raise NotImplementedError(f"{self.identifier} does not save cards")

    @abc.abstractmethod
    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        """Verify and decode a webhook: ``body`` is the raw request body, as received.

        Called by the webhook view before anything is stored. Verifies the signature over the
        raw bytes (constant-time comparison; a stale timestamp is forged too) and raises
        ``ForgedEvent`` (``InvalidEvent`` for an unreadable body): nothing is then stored.
        **No ORM, no network** (a provider that verifies by postback does it in its client,
        with a timeout), and no decision: the event is only a trigger to :meth:`fetch`."""
