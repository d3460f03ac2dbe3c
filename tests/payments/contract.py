# SPDX-License-Identifier: AGPL-3.0-or-later
"""The contract every payment provider passes (issue 11, acceptance 6).

Subclass :class:`PaymentProviderContract` once per provider in ``tests/payments/providers/``
(``class TestStripe(PaymentProviderContract)``), set :attr:`provider_path`, and implement the
*drivers*: the few steps only a provider's own test harness can play (the customer on the
payment page, a saved card that pays or declines, the webhooks it sent). Every test then runs
the application's real path — ``flows``, the collection policy, ``events.receive_event`` /
``handle_event`` / ``handle_pending_events`` — and checks the money in the ledger:

- a top-up is started without moving money and credited once when the provider confirms;
- an invoice left due after issuance is collected off-session; a declined one stays due;
- full and partial refunds reverse the ledger, the part already spent becoming an amount due;
- replayed and out-of-order events have one effect;
- an event stored then left unhandled (a crash) is handled by the next worker pass, once, and
  so is one whose handler died mid-way, once its claim expired;
- a forged event is refused and nothing is stored or changed.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from encaisse.invoicing.models import Invoice
from encaisse.ledger.models import Entry, LedgerTransaction, TransactionKind
from encaisse.ledger.selectors import customer_balance
from encaisse.payments import events, flows
from encaisse.payments.collection import collect_invoice
from encaisse.payments.exceptions import ForgedEvent, InvalidEvent
from encaisse.payments.models import EventStatus, InboundEvent, Payment
from encaisse.payments.providers import configured_paths
from encaisse.payments.providers import get as get_provider
from encaisse.payments.providers.base import ActionKind, PaymentProvider, StartedTopUp
from encaisse.payments.providers.collection import install

Webhook = tuple[bytes, dict[str, str]]


class Crash(BaseException):
    """A process killed mid-way: not an ``Exception``, so no handler records it."""


class PaymentProviderContract:
    #: Dotted path of the provider class, as listed in ``ENCAISSE_PAYMENT_PROVIDERS``.
    provider_path: ClassVar[str]

    # --- Drivers: what only the provider's harness can do ------------------------------------

    def reset_provider(self) -> None:
        """Start from a clean provider (its sandbox, its fake server); called around each test."""

    def customer_completes(self, started: StartedTopUp) -> None:
        """Play the customer through ``started.action`` so that the payment succeeds."""
        raise NotImplementedError

    def enable_off_session(self, customer: Any, *, declines: bool = False) -> None:
        """Give ``customer`` a saved means of payment that pays (or declines) off-session."""
        raise NotImplementedError

    def sent_webhooks(self) -> list[Webhook]:
        """The webhooks the provider sent since the last call, in sending order: (raw body,
        headers) as the webhook view receives them."""
        raise NotImplementedError

    def forge(self, webhook: Webhook) -> Webhook:
        """A copy of ``webhook`` an attacker could send: by default the body is altered."""
        body, headers = webhook
        return body.replace(b"}", b', "forged": true}', 1), headers

    # --- Harness -----------------------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def _provider(self, settings: Any) -> Any:
        previous = configured_paths()
        settings.ENCAISSE_PAYMENT_PROVIDERS = [self.provider_path]
        install()
        provider = get_provider(import_string(self.provider_path).identifier)
        settings.ENCAISSE_COLLECTION_POLICY = ["prepaid_balance", provider.identifier]
        self.provider = provider
        self.reset_provider()
        yield
        self.reset_provider()
        install(previous)

    @property
    def identifier(self) -> str:
        return self.provider.identifier

    def post(self, webhook: Webhook) -> Any:
        """POST a webhook to the application's endpoint, as the provider's servers do."""
        body, headers = webhook
        extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
        return Client().post(
            reverse("payments:events", args=[self.identifier]),
            data=body,
            content_type=headers.get("Content-Type", "application/json"),
            **extra,
        )

    def deliver(self, webhooks: list[Webhook] | None = None) -> list[InboundEvent]:
        """Post webhooks (default: those just sent) to the application's endpoint; the stored
        events, handled (the endpoint enqueues their handling; tasks run inline in the tests)."""
        batch = self.sent_webhooks() if webhooks is None else webhooks
        rows = []
        for webhook in batch:
            response = self.post(webhook)
            assert response.status_code == 200, response.content
            rows.append(
                InboundEvent.objects.get(
                    provider=self.identifier, event_id=response.json()["received"]
                )
            )
        return rows

    def top_up(self, customer: Any, amount: str, actor: Any) -> tuple[Payment, list[Webhook]]:
        """A top-up the customer completed and the provider confirmed (webhooks delivered)."""
        started = flows.start_top_up(
            customer, provider=self.identifier, amount=Decimal(amount), actor=actor
        )
        self.customer_completes(started)
        sent = self.sent_webhooks()
        self.deliver(sent)
        started.payment.refresh_from_db()
        return started.payment, sent

    @staticmethod
    def credited(customer: Any) -> Decimal:
        """Money received for ``customer`` through top-ups, net of reversals, from the ledger."""
        total = Entry.objects.filter(
            transaction__customer=customer,
            transaction__kind__in=[TransactionKind.TOP_UP, TransactionKind.REVERSAL],
            account__kind="psp_clearing",
        ).aggregate(total=Sum("amount"))["total"]
        return total or Decimal(0)

    # --- The contract ------------------------------------------------------------------------

    def test_the_provider_honours_the_contract_basics(self) -> None:
        assert isinstance(self.provider, PaymentProvider)
        assert self.provider.identifier and str(self.provider.verbose_name)
        assert self.provider.collects_off_session in (True, False)

    def test_a_top_up_moves_no_money_until_the_provider_confirms_then_credits_once(
        self, make_customer: Any, actor: Any, assert_ledger_ok: Any
    ) -> None:
        customer = make_customer()
        started = flows.start_top_up(
            customer, provider=self.identifier, amount=Decimal("25.00"), actor=actor
        )
        assert started.payment.status == "pending" and started.payment.is_top_up
        assert started.action.kind != ActionKind.NONE
        assert customer_balance(customer).prepaid == 0

        self.customer_completes(started)
        sent = self.sent_webhooks()
        self.deliver(sent)
        self.deliver(sent)  # delivered again: stored once, no second credit

        started.payment.refresh_from_db()
        assert started.payment.status == "succeeded"
        assert customer_balance(customer).prepaid == Decimal("25.00")
        top_up = LedgerTransaction.objects.get(customer=customer, kind=TransactionKind.TOP_UP)
        clearing = top_up.entries.get(account__kind="psp_clearing").account
        assert clearing.code == f"psp_clearing:{self.identifier}"
        assert started.payment.top_up == top_up
        assert InboundEvent.objects.filter(provider=self.identifier).count() == len(sent)
        assert events.handle_pending_events() == 0
        assert_ledger_ok()

    def test_an_invoice_left_due_is_collected_off_session(
        self,
        make_customer: Any,
        charge: Any,
        top_up: Any,
        bill: Any,
        django_capture_on_commit_callbacks: Any,
        assert_ledger_ok: Any,
    ) -> None:
        if not self.provider.collects_off_session:
            pytest.skip("this provider does not collect off-session")
        customer = make_customer()
        self.enable_off_session(customer)
        top_up(customer, "2.00")
        charge(customer, "10.00")  # 12.00 with VAT: 2.00 from the balance, 10.00 left due
        with django_capture_on_commit_callbacks(execute=True):
            bill()
        invoice = Invoice.objects.get(customer=customer)
        payment = Payment.objects.get(invoice=invoice)
        assert (payment.provider, payment.amount) == (self.identifier, Decimal("10.00"))
        self.deliver()
        payment.refresh_from_db()
        invoice.refresh_from_db()
        assert payment.status == "succeeded"
        assert (invoice.status, invoice.amount_due) == ("paid", Decimal("0.00"))
        assert customer_balance(customer).prepaid == 0
        assert self.credited(customer) == Decimal("10.00")
        assert_ledger_ok()

    def test_a_declined_collection_credits_nothing_and_the_invoice_stays_due(
        self,
        make_customer: Any,
        charge: Any,
        bill: Any,
        actor: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        if not self.provider.collects_off_session:
            pytest.skip("this provider does not collect off-session")
        customer = make_customer()
        self.enable_off_session(customer, declines=True)
        charge(customer, "10.00")
        with django_capture_on_commit_callbacks(execute=True):
            bill()
        self.deliver()
        invoice = Invoice.objects.get(customer=customer)
        payment = Payment.objects.get(invoice=invoice)
        assert payment.status == "failed" and payment.failure_reason
        assert (invoice.status, invoice.amount_due) == ("open", Decimal("12.00"))
        assert self.credited(customer) == 0
        with django_capture_on_commit_callbacks(execute=False):
            again = collect_invoice(invoice, actor=actor)  # nothing in flight: a new attempt
        assert again is not None and again.pk != payment.pk

    def test_a_full_refund_reverses_the_top_up(
        self, make_customer: Any, actor: Any, assert_ledger_ok: Any
    ) -> None:
        if not self.provider.supports_refunds:
            pytest.skip("this provider does not refund")
        customer = make_customer()
        payment, _ = self.top_up(customer, "25.00", actor)

        flows.request_refund(payment, amount=Decimal("25.00"), reason="customer left", actor=actor)
        self.deliver()

        payment.refresh_from_db()
        assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("25.00"))
        assert customer_balance(customer).prepaid == 0
        assert self.credited(customer) == 0
        assert_ledger_ok()

    def test_partial_refunds_reverse_their_part_and_the_last_one_ends_the_payment(
        self, make_customer: Any, actor: Any, assert_ledger_ok: Any
    ) -> None:
        if not self.provider.supports_refunds:
            pytest.skip("this provider does not refund")
        customer = make_customer()
        payment, _ = self.top_up(customer, "25.00", actor)

        flows.request_refund(payment, amount=Decimal("10.00"), reason="goodwill", actor=actor)
        self.deliver()
        payment.refresh_from_db()
        assert (payment.status, payment.refunded_amount) == ("succeeded", Decimal("10.00"))
        assert customer_balance(customer).prepaid == Decimal("15.00")

        flows.request_refund(payment, amount=Decimal("15.00"), reason="closing", actor=actor)
        self.deliver()
        payment.refresh_from_db()
        assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("25.00"))
        assert customer_balance(customer).prepaid == 0
        assert self.credited(customer) == 0
        assert_ledger_ok()

    def test_a_refund_of_money_already_spent_becomes_an_amount_due(
        self, make_customer: Any, charge: Any, bill: Any, actor: Any, assert_ledger_ok: Any
    ) -> None:
        if not self.provider.supports_refunds:
            pytest.skip("this provider does not refund")
        customer = make_customer()
        payment, _ = self.top_up(customer, "20.00", actor)
        charge(customer, "10.00")
        bill()  # 12.00 spent from the balance, 8.00 left

        flows.request_refund(payment, amount=Decimal("20.00"), reason="refund", actor=actor)
        self.deliver()

        balance = customer_balance(customer)
        assert (balance.prepaid, balance.due) == (Decimal("0.00"), Decimal("12.00"))
        assert_ledger_ok()

    def test_events_replayed_and_shuffled_have_one_effect(
        self, make_customer: Any, actor: Any, assert_ledger_ok: Any
    ) -> None:
        customer = make_customer()
        payment, sent = self.top_up(customer, "30.00", actor)
        if self.provider.supports_refunds:
            flows.request_refund(payment, amount=Decimal("5.00"), reason="partial", actor=actor)
            sent += self.sent_webhooks()
        replayed = sent * 3
        random.Random(11).shuffle(replayed)

        self.deliver(replayed)

        payment.refresh_from_db()
        refunded = Decimal("5.00") if self.provider.supports_refunds else Decimal(0)
        assert payment.refunded_amount == refunded
        assert customer_balance(customer).prepaid == Decimal("30.00") - refunded
        assert LedgerTransaction.objects.filter(customer=customer, kind="top_up").count() == 1
        assert InboundEvent.objects.filter(provider=self.identifier).count() == len(
            {body for body, _ in sent}
        )
        assert_ledger_ok()

    def test_events_handled_in_reverse_order_have_one_effect(
        self, make_customer: Any, actor: Any, assert_ledger_ok: Any
    ) -> None:
        customer = make_customer()
        started = flows.start_top_up(
            customer, provider=self.identifier, amount=Decimal("40.00"), actor=actor
        )
        self.customer_completes(started)

        self.deliver(list(reversed(self.sent_webhooks())))

        started.payment.refresh_from_db()
        assert started.payment.status == "succeeded"
        assert customer_balance(customer).prepaid == Decimal("40.00")
        assert LedgerTransaction.objects.filter(customer=customer, kind="top_up").count() == 1
        assert_ledger_ok()

    def test_an_event_stored_before_a_crash_is_handled_by_the_next_pass_once(
        self, make_customer: Any, actor: Any, assert_ledger_ok: Any
    ) -> None:
        customer = make_customer()
        started = flows.start_top_up(
            customer, provider=self.identifier, amount=Decimal("50.00"), actor=actor
        )
        self.customer_completes(started)
        for body, headers in self.sent_webhooks():
            events.receive_event(self.identifier, body, headers)  # stored, then the crash

        rows = InboundEvent.objects.filter(provider=self.identifier)
        assert {row.status for row in rows} == {EventStatus.RECEIVED}
        assert customer_balance(customer).prepaid == 0

        assert events.handle_pending_events() == rows.count()
        assert events.handle_pending_events() == 0

        assert {row.status for row in rows.all()} <= {EventStatus.PROCESSED, EventStatus.IGNORED}
        assert customer_balance(customer).prepaid == Decimal("50.00")
        assert LedgerTransaction.objects.filter(customer=customer, kind="top_up").count() == 1
        assert_ledger_ok()

    def test_an_event_whose_handler_crashed_is_handled_once_its_claim_expires(
        self, make_customer: Any, actor: Any, monkeypatch: Any, assert_ledger_ok: Any
    ) -> None:
        customer = make_customer()
        started = flows.start_top_up(
            customer, provider=self.identifier, amount=Decimal("50.00"), actor=actor
        )
        self.customer_completes(started)
        sent = self.sent_webhooks()

        def crash(*args: Any, **kwargs: Any) -> None:
            raise Crash()

        with monkeypatch.context() as patch:
            patch.setattr(type(self.provider), "fetch", crash)
            for body, headers in sent:
                stored = events.receive_event(self.identifier, body, headers)
                with pytest.raises(Crash):
                    events.handle_event(stored)

        rows = InboundEvent.objects.filter(provider=self.identifier)
        assert events.handle_pending_events() == 0  # still claimed by the dead handler
        rows.update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
        assert events.handle_pending_events() == len(sent)
        assert events.handle_pending_events() == 0

        assert {row.status for row in rows.all()} == {EventStatus.PROCESSED}
        assert {row.attempts for row in rows.all()} == {2}
        assert customer_balance(customer).prepaid == Decimal("50.00")
        assert LedgerTransaction.objects.filter(customer=customer, kind="top_up").count() == 1
        assert_ledger_ok()

    def test_a_forged_event_is_refused_and_nothing_is_stored_or_changed(
        self, make_customer: Any, actor: Any
    ) -> None:
        customer = make_customer()
        started = flows.start_top_up(
            customer, provider=self.identifier, amount=Decimal("60.00"), actor=actor
        )
        self.customer_completes(started)
        before = InboundEvent.objects.count()

        for webhook in self.sent_webhooks():
            body, headers = self.forge(webhook)
            with pytest.raises(ForgedEvent):
                events.receive_event(self.identifier, body, headers)
            with pytest.raises(InvalidEvent):  # unsigned
                events.receive_event(self.identifier, body, {})

        assert InboundEvent.objects.count() == before
        started.payment.refresh_from_db()
        assert started.payment.status == "pending"
        assert customer_balance(customer).prepaid == 0

    def test_the_webhook_endpoint_refuses_a_forged_event_and_stores_nothing(
        self, make_customer: Any, actor: Any
    ) -> None:
        started = flows.start_top_up(
            make_customer(), provider=self.identifier, amount=Decimal("60.00"), actor=actor
        )
        self.customer_completes(started)
        before = InboundEvent.objects.count()

        answers = [self.post(self.forge(webhook)) for webhook in self.sent_webhooks()]

        assert answers and {answer.status_code for answer in answers} == {400}
        assert InboundEvent.objects.count() == before
        started.payment.refresh_from_db()
        assert started.payment.status == "pending"
