# SPDX-License-Identifier: AGPL-3.0-or-later
"""Stateful property test of the money paths (ledger-and-reliability.md §5.1).

Hypothesis drives random sequences of: create a customer (with or without an overdraft), add a
charge (random unit price, quantity, VAT rate and service month, sometimes with an external id),
replay a charge, top up (card, PayPal, transfer, mandat), replay a top-up or reuse its reference
for another amount, run the billing of the next month (fully, or interrupted after a few chunks),
re-run or resume an earlier month, issue one customer's invoice now, credit an invoice (all
that is left or part of one VAT rate, any number of times) and charge back a top-up (once, replays
included).

An in-memory model predicts the outcome of every step (balances, amounts due, which charges go on
which invoice, what each invoice settles) and the ``@invariant`` checks compare it with the
database after every step:

* I1/I2/I3: ``check_ledger()`` (zero-sum per transaction, stored = recomputed balance, floors);
* model = database for every prepaid and receivable balance, every invoice and every charge;
* cash on bank and PSP accounts = Σ distinct top-ups - Σ charged back (replays never count, I4);
* revenue and VAT accounts = Σ invoiced - Σ credited, excl. VAT and VAT per rate;
* each invoice: lines sum to its net total, VAT per rate rounded once, paid + credited ≤ total,
  paid = Σ settlement entries on the prepaid account - Σ refunds of its credit notes, credited =
  Σ its credit notes, which never credit more base or VAT per rate than it has, status coherent;
* at most one invoice per (billing run, customer) and one issuance settlement per invoice;
* invoice numbers FA<year>-000001…N and credit-note numbers AV<year>-… gapless, in issue order;
* nobody has both money available above the floor and an invoice left due.

Deterministic regression tests at the end of the module pin the bugs the machine found.

Isolation: the ``db`` fixture wraps the test in one transaction. Each example (one state machine)
opens its own savepoint in ``__init__`` and rolls it back in ``teardown``, so every example starts
from an empty database (number sequences included) and the model can predict the whole database.
The savepoint is marked ``_from_testcase`` like Django's TestCase atomics: the services open
``transaction.atomic(durable=True)`` at their entry points, which Django allows only directly
inside a test-case atomic.

Bounded for CI (60 examples × 30 steps by default); ``ENCAISSE_HYPOTHESIS_EXAMPLES`` and
``ENCAISSE_HYPOTHESIS_STEPS`` raise it (nightly: 5,000 examples).
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from encaisse.core.actors import Actor
from encaisse.core.money import line_cents, to_cents, vat_cents

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES = int(os.environ.get("ENCAISSE_HYPOTHESIS_EXAMPLES") or 60)
STEPS = int(os.environ.get("ENCAISSE_HYPOTHESIS_STEPS") or 30)

ACTOR = Actor.system("stateful-test")
FIRST_MONTH = (2026, 1)
METHODS = ("bank_transfer", "card", "paypal", "mandat_administratif")
OVERDRAFTS = (None, Decimal("0"), Decimal("20"), Decimal("55.55"))

# Printable text of any script; no control characters (PostgreSQL refuses NUL) nor surrogates.
TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=20
).filter(lambda s: s.strip() != "")
UNIT_PRICES = st.integers(0, 5_000_000).map(lambda n: Decimal(n).scaleb(-4))  # 0.00–500.0000
QUANTITIES = st.one_of(
    st.integers(1, 12).map(Decimal),
    st.integers(1, 1_000_000).map(lambda n: Decimal(n).scaleb(-4)),  # 0.0001–100.0000
)
TOP_UPS = st.integers(1, 60_000)  # cents: 0.01–600.00


def month(index: int) -> tuple[dt.date, dt.date, str]:
    """Month ``index`` counted from January 2026: (first day, last day, "YYYY-MM")."""
    year, mon = divmod(FIRST_MONTH[1] - 1 + index, 12)
    year += FIRST_MONTH[0]
    mon += 1
    last = calendar.monthrange(year, mon)[1]
    return dt.date(year, mon, 1), dt.date(year, mon, last), f"{year}-{mon:02d}"


@dataclass
class MInvoice:
    pk: int
    customer: int
    total: int
    due: int
    run: int | None
    excl: int
    charges: frozenset[int]
    bases: dict[Decimal, int]  # net amount per VAT rate
    paid: int = 0
    credited: int = 0
    credited_bases: dict[Decimal, int] = field(default_factory=lambda: defaultdict(int))
    status: str = "open"
    vats: dict[Decimal, int] = field(default_factory=dict)  # VAT per rate
    credited_vats: dict[Decimal, int] = field(default_factory=lambda: defaultdict(int))

    def creditable(self) -> dict[Decimal, int]:
        left = {rate: base - self.credited_bases[rate] for rate, base in self.bases.items()}
        return {rate: base for rate, base in left.items() if base > 0}


@dataclass
class MNote:
    pk: int
    invoice: int
    total: int
    excl: int


@dataclass
class MCustomer:
    pk: int
    floor: int  # cents, ≤ 0
    balance: int = 0  # prepaid, cents
    open: list[MInvoice] = field(default_factory=list)  # invoices left due, oldest first
    debt: int = 0  # reversed top-ups the balance could not cover (on the receivable)

    @property
    def due(self) -> int:
        return sum(inv.due for inv in self.open)

    @property
    def available(self) -> int:
        return max(0, self.balance - self.floor)


@dataclass
class MCharge:
    pk: int
    customer: int
    month: int
    amount: int  # cents, excl. VAT
    rate: Decimal
    invoice: int | None = None


@dataclass
class MRun:
    pk: int
    month: int
    chunks: list[tuple[int, int]]
    done: int = 0  # chunks are claimed in index order
    invoiced: set[int] = field(default_factory=set)  # customers invoiced by this run
    completed: bool = False


@dataclass(frozen=True)
class TopUp:
    customer: int
    cents: int
    method: str
    reference: str


@dataclass(frozen=True)
class ChargeRequest:
    pk: int
    customer: int
    kwargs: tuple


class LedgerMachine(RuleBasedStateMachine):
    customers = Bundle("customers")
    top_ups = Bundle("top_ups")
    keyed_charges = Bundle("keyed_charges")

    def __init__(self) -> None:
        super().__init__()
        # Per-example savepoint, rolled back in teardown (see the module docstring).
        self._atomic = transaction.atomic()
        self._atomic._from_testcase = True
        self._atomic.__enter__()
        self.model: dict[int, MCustomer] = {}
        self.charges: dict[int, MCharge] = {}
        self.invoices: dict[int, MInvoice] = {}
        self.notes: dict[int, MNote] = {}
        self.reversed: set[str] = set()  # top-up keys
        self.runs: dict[int, MRun] = {}  # by pk
        self.running: dict[int, MRun] = {}  # month -> run still running
        self.next_month = 0
        self.cash = 0
        self.top_up_count = 0
        self.revenue = 0
        self.vat: dict[Decimal, int] = defaultdict(int)
        self.serial = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _serial(self) -> int:
        self.serial += 1
        return self.serial

    # --- model ---------------------------------------------------------------------------------

    def _settle(self, customer: MCustomer) -> None:
        """What ``settle_open_invoices`` does after a credit: a reversal's debt, then oldest invoices."""
        available = customer.available
        used = min(customer.debt, available)
        customer.debt -= used
        for invoice in customer.open:
            amount = min(invoice.due, available - used)
            if amount <= 0:
                break
            invoice.due -= amount
            invoice.paid += amount
            used += amount
            if invoice.due == 0:
                invoice.status = "paid"
        customer.balance -= used
        customer.open = [inv for inv in customer.open if inv.due]

    def _predict_invoice(
        self, customer_pk: int, through_month: int, run: MRun | None
    ) -> dict | None:
        """The invoice issuance would make for one customer now, or None (nothing to invoice)."""
        lines = [
            c
            for c in self.charges.values()
            if c.customer == customer_pk and c.invoice is None and c.month <= through_month
        ]
        if not lines or (run is not None and customer_pk in run.invoiced):
            return None
        bases: dict[Decimal, int] = defaultdict(int)
        for line in lines:
            bases[line.rate] += line.amount
        vat = {rate: vat_cents(base, rate) for rate, base in bases.items()}
        excl = sum(bases.values())
        return {
            "customer": customer_pk,
            "excl": excl,
            "bases": dict(bases),
            "vat": vat,
            "total": excl + sum(vat.values()),
            "charges": frozenset(line.pk for line in lines),
            "run": run.pk if run is not None else None,
        }

    def _issue(self, customer_pks: list[int], through_month: int, run: MRun | None) -> list[dict]:
        """Predict issuance for customers in id order, then check it against the new invoices."""
        predicted = [
            p
            for pk in sorted(customer_pks)
            if (p := self._predict_invoice(pk, through_month, run)) is not None
        ]
        return predicted

    def _apply_issued(self, predicted: list[dict], before_pk: int) -> None:
        from encaisse.invoicing.models import Charge, Invoice

        new = list(Invoice.objects.filter(pk__gt=before_pk).order_by("pk"))
        assert [(i.customer_id, to_cents(i.total_incl_vat)) for i in new] == [
            (p["customer"], p["total"]) for p in predicted
        ], "invoices issued differ from the model (customers, order or totals)"
        for invoice, p in zip(new, predicted, strict=True):
            customer = self.model[p["customer"]]
            paid = min(p["total"], customer.available)
            customer.balance -= paid
            assert to_cents(invoice.paid) == paid, (invoice.number, invoice.paid, paid)
            assert invoice.billing_run_id == p["run"]
            lines = set(Charge.objects.filter(invoice=invoice).values_list("pk", flat=True))
            assert lines == p["charges"], "the invoice does not carry exactly its charges"
            minv = MInvoice(
                invoice.pk,
                p["customer"],
                p["total"],
                p["total"] - paid,
                p["run"],
                p["excl"],
                p["charges"],
                p["bases"],
                paid=paid,
                status="open" if p["total"] - paid else "paid",
                vats=dict(p["vat"]),
            )
            self.invoices[invoice.pk] = minv
            if minv.due:
                customer.open.append(minv)
            for charge_pk in p["charges"]:
                self.charges[charge_pk].invoice = invoice.pk
            self.revenue += p["excl"]
            for rate, amount in p["vat"].items():
                self.vat[rate] += amount
            if p["run"] is not None:
                self.runs[p["run"]].invoiced.add(p["customer"])

    def _last_invoice_pk(self) -> int:
        return max([*self.invoices, *self.notes], default=0)

    def _plan(self, through_month: int, chunk_size: int) -> list[tuple[int, int]]:
        ids = sorted(
            {
                c.customer
                for c in self.charges.values()
                if c.invoice is None and c.month <= through_month
            }
        )
        return [
            (ids[i], ids[min(i + chunk_size, len(ids)) - 1]) for i in range(0, len(ids), chunk_size)
        ]

    def _start(self, index: int, chunk_size: int) -> MRun:
        """``start_run``: resume the month's running run or plan a new one; check the plan."""
        from encaisse.invoicing import billing

        expected = self.running.get(index)
        plan = None if expected is not None else self._plan(index, chunk_size)
        run = billing.start_run(month(index)[2], actor=ACTOR, chunk_size=chunk_size)
        if expected is not None:
            assert run.pk == expected.pk, "an unfinished run must be resumed, not duplicated"
            return expected
        assert run.pk not in self.runs
        chunks = list(
            run.chunks.order_by("index").values_list("first_customer_id", "last_customer_id")
        )
        assert chunks == plan, "the run is not cut into the expected customer ranges"
        model_run = MRun(run.pk, index, plan)
        self.runs[run.pk] = model_run
        self.running[index] = model_run
        return model_run

    def _process_chunk(self, model_run: MRun) -> None:
        from encaisse.invoicing import billing
        from encaisse.invoicing.models import BillingRun

        run = BillingRun.objects.get(pk=model_run.pk)
        before = self._last_invoice_pk()
        if model_run.done == len(model_run.chunks):
            assert billing.process_next_chunk(run, actor=ACTOR) is None
            return
        lo, hi = model_run.chunks[model_run.done]
        predicted = self._issue(
            [pk for pk in self.model if lo <= pk <= hi], model_run.month, model_run
        )
        chunk = billing.process_next_chunk(run, actor=ACTOR)
        assert chunk is not None
        assert (chunk.first_customer_id, chunk.last_customer_id) == (lo, hi)
        model_run.done += 1
        self._apply_issued(predicted, before)

    def _finish(self, model_run: MRun) -> None:
        from encaisse.invoicing import billing
        from encaisse.invoicing.models import BillingRun

        while model_run.done < len(model_run.chunks):
            self._process_chunk(model_run)
        run = BillingRun.objects.get(pk=model_run.pk)
        summary = billing.process_run(run, actor=ACTOR)
        assert summary.run.status == "completed"
        assert summary.invoices == len(model_run.invoiced)
        model_run.completed = True
        self.running.pop(model_run.month, None)

    # --- rules ---------------------------------------------------------------------------------

    @initialize(
        target=customers, overdrafts=st.lists(st.sampled_from(OVERDRAFTS), min_size=1, max_size=3)
    )
    def first_customers(self, overdrafts: list[Decimal | None]):
        return multiple(*(self._create_customer(overdraft) for overdraft in overdrafts))

    @precondition(lambda self: len(self.model) < 6)
    @rule(target=customers, overdraft=st.sampled_from(OVERDRAFTS))
    def create_customer(self, overdraft: Decimal | None) -> int:
        return self._create_customer(overdraft)

    def _create_customer(self, overdraft: Decimal | None) -> int:
        from encaisse.customers.services import CustomerData, create_customer

        n = self._serial()
        customer = create_customer(
            CustomerData(
                name=f"Client {n}",
                email=f"client{n}@example.org",
                kind="company",
                address_line1=f"{n} rue de la Paix",
                postal_code="75002",
                city="Paris",
            ),
            actor=ACTOR,
            overdraft=overdraft,
        )
        default = django_settings.ENCAISSE_DEFAULT_OVERDRAFT
        self.model[customer.pk] = MCustomer(
            customer.pk, floor=-to_cents(default if overdraft is None else overdraft)
        )
        return customer.pk

    @rule(
        target=keyed_charges,
        customer=customers,
        lines=st.lists(
            st.tuples(
                UNIT_PRICES,
                QUANTITIES,
                st.sampled_from(django_settings.ENCAISSE_VAT_RATES),
                st.integers(-3, 1),  # service month relative to the next month to bill
                st.booleans(),  # with an external id (retries return the first charge)
                TEXT,
            ),
            min_size=1,
            max_size=3,
        ),
    )
    def add_charges(self, customer: int, lines: list[tuple]):
        """The platform posts 1–3 charges for one customer, possibly late or in advance."""
        from encaisse.customers.models import Customer
        from encaisse.invoicing.charges import add_charge

        keyed = []
        for unit_price, quantity, rate, month_offset, with_key, description in lines:
            index = max(0, self.next_month + month_offset)
            start, end, _ = month(index)
            kwargs = {
                "description": description,
                "quantity": str(quantity),
                "unit_price": str(unit_price),
                "vat_rate": str(rate),
                "period_start": start,
                "period_end": end,
                "external_id": f"platform-{self._serial()}" if with_key else "",
            }
            created, is_new = add_charge(Customer.objects.get(pk=customer), actor=ACTOR, **kwargs)
            assert is_new
            amount = line_cents(quantity, unit_price)
            assert to_cents(created.amount) == amount
            self.charges[created.pk] = MCharge(created.pk, customer, index, amount, rate)
            if with_key:  # without an external id a retry is a new charge by design
                keyed.append(ChargeRequest(created.pk, customer, tuple(sorted(kwargs.items()))))
        return multiple(*keyed)

    @rule(request=keyed_charges)
    def replay_charge(self, request: ChargeRequest) -> None:
        """The platform retries a charge: the first one is returned, nothing new is billed."""
        from encaisse.customers.models import Customer
        from encaisse.invoicing.charges import add_charge

        kwargs = dict(request.kwargs)
        charge, created = add_charge(
            Customer.objects.get(pk=request.customer), actor=ACTOR, **kwargs
        )
        assert not created
        assert charge.pk == request.pk

    @rule(
        target=top_ups,
        customer=customers,
        cents=TOP_UPS,
        method=st.sampled_from(METHODS),
        reference=TEXT,
    )
    def top_up(self, customer: int, cents: int, method: str, reference: str) -> TopUp:
        from encaisse.customers.models import Customer
        from encaisse.payments.services import record_top_up

        reference = f"{reference.strip()}#{self._serial()}"  # unique: a fresh bank line
        _, created = record_top_up(
            Customer.objects.get(pk=customer),
            amount=f"{Decimal(cents).scaleb(-2):.2f}",
            method=method,
            reference=reference,
            actor=ACTOR,
        )
        assert created
        model = self.model[customer]
        model.balance += cents
        self.cash += cents
        self.top_up_count += 1
        self._settle(model)
        return TopUp(customer, cents, method, reference)

    @rule(payment=top_ups, padded=st.booleans())
    def replay_top_up(self, payment: TopUp, padded: bool) -> None:
        """A webhook or statement line seen again: same result, no second credit (I4, I6)."""
        from encaisse.customers.models import Customer
        from encaisse.payments.services import record_top_up

        txn, created = record_top_up(
            Customer.objects.get(pk=payment.customer),
            amount=f"{Decimal(payment.cents).scaleb(-2):.2f}",
            method=payment.method,
            reference=f"  {payment.reference} " if padded else payment.reference,
            actor=ACTOR,
        )
        assert not created
        assert txn.idempotency_key == f"topup:{payment.method}:{payment.reference}"

    @rule(payment=top_ups, delta=st.integers(1, 1000), other=customers)
    def reuse_top_up_reference(self, payment: TopUp, delta: int, other: int) -> None:
        """The same reference for another amount or customer is refused and changes nothing."""
        from encaisse.customers.models import Customer
        from encaisse.ledger.exceptions import IdempotencyConflict
        from encaisse.payments.services import record_top_up

        attempts = [(payment.customer, payment.cents + delta)]
        if other != payment.customer:
            attempts.append((other, payment.cents))
        for customer, cents in attempts:
            with pytest.raises(IdempotencyConflict):
                record_top_up(
                    Customer.objects.get(pk=customer),
                    amount=f"{Decimal(cents).scaleb(-2):.2f}",
                    method=payment.method,
                    reference=payment.reference,
                    actor=ACTOR,
                )

    def _something_to_bill(self) -> bool:
        return any(c.invoice is None for c in self.charges.values())

    @precondition(_something_to_bill)
    @rule(chunk_size=st.integers(1, 3))
    def bill_next_month(self, chunk_size: int) -> None:
        """``encaisse bill`` for the month after the last one started."""
        index = self.next_month
        self.next_month += 1
        self._finish(self._start(index, chunk_size))

    @precondition(_something_to_bill)
    @rule(chunk_size=st.integers(1, 3), chunks=st.integers(0, 2))
    def interrupted_run(self, chunk_size: int, chunks: int) -> None:
        """A run of the next month stops after a few chunks (a crash between transactions)."""
        index = self.next_month
        self.next_month += 1
        model_run = self._start(index, chunk_size)
        for _ in range(chunks):
            self._process_chunk(model_run)

    @precondition(lambda self: self.next_month > 0 and (self.running or self._something_to_bill()))
    @rule(data=st.data(), chunk_size=st.integers(1, 3))
    def bill_earlier_month_again(self, data, chunk_size: int) -> None:
        """Re-run an earlier month: resume it if unfinished, else bill only late charges."""
        index = data.draw(st.integers(0, self.next_month - 1), label="month")
        self._finish(self._start(index, chunk_size))

    @precondition(_something_to_bill)
    @rule(customer=customers, month_offset=st.integers(-2, 1))
    def issue_invoice_now(self, customer: int, month_offset: int) -> None:
        """Staff issues one customer's invoice for charges up to a given month, outside any run."""
        from encaisse.customers.models import Customer
        from encaisse.invoicing.issuance import issue_invoice_now

        index = max(0, self.next_month + month_offset)
        before = self._last_invoice_pk()
        predicted = self._issue([customer], index, None)
        invoice = issue_invoice_now(
            Customer.objects.get(pk=customer), period_end=month(index)[1], actor=ACTOR
        )
        assert (invoice is None) == (not predicted)
        self._apply_issued(predicted, before)

    def _creditable(self) -> list[int]:
        """Invoices with some base left to credit."""
        return [pk for pk, invoice in sorted(self.invoices.items()) if invoice.creditable()]

    @precondition(lambda self: self._creditable())
    @rule(data=st.data(), full=st.booleans())
    def credit_note(self, data, full: bool) -> None:
        """Correct an issued invoice by a credit note: all that is left, or part of one rate."""
        from encaisse.invoicing.credit_notes import CreditLine, issue_credit_note
        from encaisse.invoicing.models import Invoice, InvoiceKind

        invoice = self.invoices[data.draw(st.sampled_from(self._creditable()), label="invoice")]
        left = invoice.creditable()
        if full:
            bases, lines = left, None
        else:
            rate = data.draw(st.sampled_from(sorted(left)), label="rate")
            cents = data.draw(st.integers(1, left[rate]), label="cents")
            bases = {rate: cents}
            lines = [CreditLine("Geste commercial", Decimal(cents).scaleb(-2), rate)]
        note = issue_credit_note(
            Invoice.objects.get(pk=invoice.pk), actor=ACTOR, reason="correction", lines=lines
        )
        assert note.kind == InvoiceKind.CREDIT_NOTE
        assert note.credited_invoice_id == invoice.pk
        # VAT rounded on the credited base, capped by the VAT left; the credit that empties a rate
        # takes exactly the VAT left, so all the notes of an invoice add up to its VAT.
        vat = {}
        for rate, base in bases.items():
            vat_left = invoice.vats[rate] - invoice.credited_vats[rate]
            emptied = base == invoice.bases[rate] - invoice.credited_bases[rate]
            vat[rate] = vat_left if emptied else min(vat_cents(base, rate), vat_left)
        excl = sum(bases.values())
        total = excl + sum(vat.values())
        assert to_cents(note.total_incl_vat) == total
        cancel_due = min(total, invoice.due)
        refund = total - cancel_due
        invoice.due -= cancel_due
        invoice.paid -= refund
        invoice.credited += total
        for rate, base in bases.items():
            invoice.credited_bases[rate] += base
            invoice.credited_vats[rate] += vat[rate]
            self.vat[rate] -= vat[rate]
        self.revenue -= excl
        if invoice.credited == invoice.total:
            invoice.status = "cancelled"
        elif invoice.paid + invoice.credited == invoice.total:
            invoice.status = "paid"
        customer = self.model[invoice.customer]
        customer.open = [inv for inv in customer.open if inv.due]
        if refund:  # money given back arrives like a top-up: it pays what is due, oldest first
            customer.balance += refund
            self._settle(customer)
        self.notes[note.pk] = MNote(note.pk, invoice.pk, total, excl)

    @rule(payment=top_ups)
    def reverse_top_up(self, payment: TopUp) -> None:
        """A chargeback or SEPA return: booked once; what the balance cannot cover becomes due."""
        from encaisse.ledger.models import LedgerTransaction
        from encaisse.payments.services import reverse_top_up

        key = f"topup:{payment.method}:{payment.reference}"
        top_up = LedgerTransaction.objects.get(idempotency_key=key)
        reversal = reverse_top_up(top_up, actor=ACTOR, reason="chargeback")
        assert reversal.reverses_id == top_up.pk
        if key in self.reversed:
            return  # a replayed return: the first booking stands, nothing moves
        self.reversed.add(key)
        customer = self.model[payment.customer]
        covered = min(payment.cents, customer.available)
        customer.balance -= covered
        customer.debt += payment.cents - covered
        self.cash -= payment.cents

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def ledger_is_consistent(self) -> None:
        from encaisse.ledger.selectors import check_ledger

        report = check_ledger()
        assert report.ok, report

    @invariant()
    def balances_match_the_model(self) -> None:
        from encaisse.ledger.models import Account, AccountKind

        stored = {
            (customer, kind): to_cents(balance)
            for customer, kind, balance in Account.objects.filter(
                customer__isnull=False
            ).values_list("customer_id", "kind", "balance")
        }
        expected = {}
        for pk, customer in self.model.items():
            expected[(pk, AccountKind.PREPAID.value)] = customer.balance
            expected[(pk, AccountKind.RECEIVABLE.value)] = customer.due + customer.debt
            # Money available while something is due would mean a missed settlement.
            assert not (customer.available and (customer.due or customer.debt)), customer
        assert stored == expected

    @invariant()
    def cash_revenue_and_vat_match_the_model(self) -> None:
        from encaisse.ledger.models import Account, AccountKind, LedgerTransaction

        def total(**filters) -> int:
            return sum(
                to_cents(b)
                for b in Account.objects.filter(**filters).values_list("balance", flat=True)
            )

        cash = total(kind__in=[AccountKind.BANK, AccountKind.PSP_CLEARING])
        assert cash == self.cash, "cash ≠ Σ distinct top-ups - Σ reversed ones"
        assert LedgerTransaction.objects.filter(kind="top_up").count() == self.top_up_count
        assert LedgerTransaction.objects.filter(kind="reversal").count() == len(self.reversed)
        assert total(kind=AccountKind.REVENUE) == self.revenue
        for rate in django_settings.ENCAISSE_VAT_RATES:
            assert total(code=f"vat_collected:{rate:.2f}") == self.vat.get(rate, 0), rate

    @invariant()
    def invoices_match_the_model(self) -> None:
        from encaisse.invoicing.models import Invoice

        invoices = {i.pk: i for i in Invoice.objects.filter(kind="invoice")}
        assert set(invoices) == set(self.invoices)
        for pk, invoice in invoices.items():
            expected = self.invoices[pk]
            total = to_cents(invoice.total_incl_vat)
            paid, credited = to_cents(invoice.paid), to_cents(invoice.credited)
            assert (invoice.customer_id, total) == (expected.customer, expected.total)
            assert (paid, credited, invoice.status) == (
                expected.paid,
                expected.credited,
                expected.status,
            ), invoice.number
            assert paid >= 0 and paid + credited <= total
            assert total - paid - credited == expected.due, invoice.number
            assert to_cents(invoice.total_excl_vat) == expected.excl
            _assert_vat_breakdown(invoice, expected.excl)

    @invariant()
    def credit_notes_and_charges_match_the_model(self) -> None:
        from encaisse.invoicing.models import Charge, Invoice

        notes = {n.pk: n for n in Invoice.objects.filter(kind="credit_note")}
        assert set(notes) == set(self.notes)
        for pk, note in notes.items():
            expected = self.notes[pk]
            assert note.credited_invoice_id == expected.invoice
            assert to_cents(note.total_incl_vat) == expected.total
            assert to_cents(note.total_excl_vat) == expected.excl
            _assert_vat_breakdown(note, expected.excl, rounded_per_rate=False)
        # All the notes of an invoice never credit more base or VAT than it has per rate, and
        # exactly its VAT once the rate's whole base is credited.
        for invoice in Invoice.objects.filter(
            kind="invoice", credit_notes__isnull=False
        ).distinct():
            credited: dict[Decimal, list[int]] = defaultdict(lambda: [0, 0])
            for note in invoice.credit_notes.all():
                for rate, (base, vat) in _per_rate(note).items():
                    credited[rate][0] += base
                    credited[rate][1] += vat
            for rate, (base, vat) in _per_rate(invoice).items():
                done_base, done_vat = credited.get(rate, (0, 0))
                assert done_base <= base and done_vat <= vat, (invoice.number, rate)
                if done_base == base and base:
                    assert done_vat == vat, (invoice.number, rate)
        lines = Charge.objects.filter(invoice__kind="credit_note").values_list(
            "invoice_id", "amount"
        )
        per_note: dict[int, int] = defaultdict(int)
        for note_pk, amount in lines:
            per_note[note_pk] += to_cents(amount)
        assert per_note == {pk: n.excl for pk, n in self.notes.items()}
        placed = dict(
            Charge.objects.exclude(invoice__kind="credit_note").values_list("pk", "invoice_id")
        )
        assert placed == {pk: c.invoice for pk, c in self.charges.items()}
        for invoice in self.invoices.values():  # each charge on exactly the invoice predicted
            assert {pk for pk, inv in placed.items() if inv == invoice.pk} == invoice.charges

    @invariant()
    def settlements_in_the_ledger_match_the_invoices(self) -> None:
        """``paid`` = Σ prepaid debits posted for the invoice - Σ refunds of its credit notes."""
        from encaisse.invoicing.models import Invoice

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.invoice_id, SUM(e.amount) FROM ledger_entry e "
                "JOIN ledger_ledgertransaction t ON t.id = e.transaction_id "
                "JOIN ledger_account a ON a.id = e.account_id "
                "WHERE t.kind IN ('invoice_issued', 'invoice_settled') AND a.kind = 'prepaid' "
                "GROUP BY t.invoice_id"
            )
            settled = dict(cursor.fetchall())
            cursor.execute(
                "SELECT n.credited_invoice_id, SUM(e.amount) FROM ledger_entry e "
                "JOIN ledger_ledgertransaction t ON t.id = e.transaction_id "
                "JOIN ledger_account a ON a.id = e.account_id "
                "JOIN invoicing_invoice n ON n.id = t.invoice_id "
                "WHERE t.kind = 'credit_note' AND a.kind = 'prepaid' "
                "GROUP BY n.credited_invoice_id"
            )
            refunded = dict(cursor.fetchall())  # credits of the prepaid account: negative
            cursor.execute(
                "SELECT idempotency_key, COUNT(*) FROM ledger_ledgertransaction "
                "WHERE idempotency_key LIKE 'invoice:%%:issued' "
                "GROUP BY idempotency_key HAVING COUNT(*) > 1"
            )
            assert cursor.fetchall() == []
            cursor.execute(
                "SELECT billing_run_id, customer_id FROM invoicing_invoice "
                "WHERE billing_run_id IS NOT NULL GROUP BY billing_run_id, customer_id "
                "HAVING COUNT(*) > 1"
            )
            assert cursor.fetchall() == [], "a customer invoiced twice by one run"
        for pk, paid in Invoice.objects.filter(kind="invoice").values_list("pk", "paid"):
            assert settled.get(pk, 0) + refunded.get(pk, 0) == to_cents(paid), pk

    @invariant()
    def document_numbers_are_gapless_and_chronological(self) -> None:
        from encaisse.invoicing.models import Invoice

        year = timezone.localdate().year
        for kind, prefix in (("invoice", "FA"), ("credit_note", "AV")):
            numbers = list(
                Invoice.objects.filter(kind=kind).order_by("pk").values_list("number", flat=True)
            )
            assert numbers == [f"{prefix}{year}-{n:06d}" for n in range(1, len(numbers) + 1)]


def _per_rate(document) -> dict[Decimal, tuple[int, int]]:
    return {
        Decimal(item["rate"]): (to_cents(Decimal(item["base"])), to_cents(Decimal(item["vat"])))
        for item in document.vat_breakdown
    }


def _assert_vat_breakdown(document, excl: int, *, rounded_per_rate: bool = True) -> None:
    """Bases sum to the net total; VAT rounded once per rate (invoices); total VAT = Σ per rate.

    A credit note's VAT is rounded on its base too, except the one that empties a rate, which
    takes exactly the VAT left (checked against the invoice by the caller).
    """
    breakdown = document.vat_breakdown
    assert sum(to_cents(Decimal(item["base"])) for item in breakdown) == excl
    for rate, (base, vat) in _per_rate(document).items():
        if rounded_per_rate:
            assert vat == vat_cents(base, rate)
    assert to_cents(document.total_vat) == sum(to_cents(Decimal(i["vat"])) for i in breakdown)
    assert document.total_incl_vat == document.total_excl_vat + document.total_vat


@pytest.mark.django_db
def test_money_invariants_hold_for_any_sequence_of_operations():
    """I1–I6 and the model's predictions hold after every step of random operation sequences."""
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            print_blob=True,
        ),
    )


def test_money_a_credit_note_gives_back_pays_the_invoice_still_due(
    make_customer, charge, top_up, bill, actor
):
    """Invariant of the model above: nobody holds available credit while an invoice is left due.

    November's invoice (12.00) was paid from the balance; December's (24.00) is due. Crediting
    November gives 12.00 back to the prepaid balance, and that money arrives while December is
    due: like a top-up (settlement.py: "paying invoices left due from the prepaid balance, oldest
    first, when money arrives") it must go to December. Today it stays on the balance, the
    customer is chased for 24.00 while holding 12.00, and the next billing run spends the 12.00
    on January's invoice, leaving the older December invoice open.
    """
    import datetime as dt

    from encaisse.invoicing.credit_notes import issue_credit_note
    from encaisse.invoicing.models import Invoice
    from encaisse.ledger.selectors import check_ledger, customer_balance

    customer = make_customer()
    charge(customer, "10.00")  # November: 12.00
    top_up(customer, "12.00")
    bill("2026-11")
    charge(customer, "20.00", period=(dt.date(2026, 12, 1), dt.date(2026, 12, 31)))  # 24.00
    bill("2026-12")
    november, december = Invoice.objects.filter(customer=customer).order_by("pk")
    assert (november.status, december.amount_due) == ("paid", Decimal("24.00"))

    issue_credit_note(november, actor=actor, reason="service interrupted in November")

    december.refresh_from_db()
    balance = customer_balance(customer)
    assert check_ledger().ok
    assert balance.available == 0 or balance.due == 0, balance
    assert december.amount_due == Decimal("12.00")


def test_crediting_the_rest_after_a_partial_credit_note_cancels_the_invoice_exactly(
    make_customer, charge, bill, actor
):
    """Found by the state machine: Σ credit notes of an invoice must equal its total, not exceed it.

    18.64 at 10 % = 20.50 (VAT 1.864 → 1.86). Crediting 0.06 (VAT 0.006 → 0.01) then the rest,
    18.58 (VAT 1.858 → 1.86), would credit 20.51: today the second note violates the CHECK
    ``invoice_settlement_within_total`` (IntegrityError), so the invoice can never be cancelled.
    """
    from encaisse.invoicing.credit_notes import CreditLine, issue_credit_note
    from encaisse.invoicing.models import Invoice

    customer = make_customer()
    charge(customer, "18.64", vat_rate="10")
    bill()
    invoice = Invoice.objects.get(customer=customer)
    partial = [CreditLine("Geste commercial", Decimal("0.06"), Decimal("10"))]
    issue_credit_note(invoice, actor=actor, reason="partial", lines=partial)

    rest = issue_credit_note(invoice, actor=actor, reason="cancel the rest")

    invoice.refresh_from_db()
    assert rest.total_incl_vat == Decimal("20.43")  # 18.58 + the 1.85 of VAT left
    assert (invoice.credited, invoice.status) == (invoice.total_incl_vat, "cancelled")


def test_two_credit_notes_covering_the_whole_base_leave_nothing_due(
    make_customer, charge, bill, actor
):
    """10.05 at 10 % = 11.06 (VAT 1.005 → 1.01); 5.02 + 5.03 credited round to 0.50 + 0.50 VAT.

    Today 0.01 stays due on an invoice whose whole base is credited, and a third credit note is
    refused (NothingToCredit): the customer is chased for a cent nothing can cancel.
    """
    from encaisse.invoicing.credit_notes import CreditLine, issue_credit_note
    from encaisse.invoicing.models import Invoice

    customer = make_customer()
    charge(customer, "10.05", vat_rate="10")
    bill()
    invoice = Invoice.objects.get(customer=customer)
    half = [CreditLine("Moitié", Decimal("5.02"), Decimal("10"))]
    issue_credit_note(invoice, actor=actor, reason="first half", lines=half)
    issue_credit_note(invoice, actor=actor, reason="the rest")

    invoice.refresh_from_db()
    assert invoice.amount_due == 0
    assert (invoice.credited, invoice.status) == (Decimal("11.06"), "cancelled")


def test_money_arriving_after_a_chargeback_pays_the_debt_it_left(
    make_customer, charge, top_up, bill, actor
):
    """Nobody holds available credit while an amount is due, including a reversal's debt.

    A 100.00 card top-up paid a 60.00 invoice; the card payment is charged back: the 40.00 left
    go back and 60.00 become due on the receivable (decisions §2). A 100.00 transfer then
    arrives: like money given back by a credit note, it must first pay the 60.00 due. Today it
    stays on the prepaid balance (100.00 available, 60.00 due), dunning chases a customer who
    holds the money, and the next billing run spends it on new invoices instead.
    """
    from encaisse.ledger.selectors import check_ledger, customer_balance
    from encaisse.payments.services import reverse_top_up

    customer = make_customer()
    charge(customer, "50.00")  # 60.00
    card = top_up(customer, "100.00", method="card", reference="ch_3NtQ")
    bill()
    reverse_top_up(card, actor=actor, reason="chargeback")
    assert customer_balance(customer).due == Decimal("60.00")

    top_up(customer, "100.00", reference="virement-2026-12-01")

    balance = customer_balance(customer)
    assert check_ledger().ok
    assert (balance.prepaid, balance.due) == (Decimal("40.00"), Decimal("0.00")), balance
