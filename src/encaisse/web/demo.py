# SPDX-License-Identifier: AGPL-3.0-or-later
"""Demo data: a small French hosting company with a year of history, built through the services.

``encaisse demo`` calls :func:`seed`. Everything goes through the same services as production
(``create_customer``, ``record_top_up``, ``start_run``/``process_run`` back-dated with
``issue_date``), so the demo also exercises the ledger: ``check_ledger()`` must be clean after it.

Idempotent at two levels: a final audit entry (``encaisse.demo.seeded``) makes a second call a
no-op, and every step can be replayed after a crash (customers by ``external_id``, top-ups by
reference, billing runs skipped once completed). Deterministic: one seeded ``random.Random``
drives names, plans and payment habits; only the dates follow today's date.

Payment habits give the back-office something to show: customers who top up in advance (invoices
paid at issuance), card payers (paid right after issuance), late payers by transfer (open, then
paid; some partly), customers who stopped paying (recent invoices due) and public bodies paying by
mandat administratif each quarter.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from unittest import mock

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from stdnum import luhn
from stdnum.fr import siren as siren_number

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.models import AuditLog
from encaisse.customers.models import Customer
from encaisse.customers.services import CustomerData, create_customer
from encaisse.invoicing import billing
from encaisse.invoicing.models import BillingRun, BillingRunStatus, Invoice, Plan
from encaisse.invoicing.pdf import render_invoice_pdf
from encaisse.invoicing.subscriptions import add_months, subscribe
from encaisse.ledger import keys as ledger_keys
from encaisse.ledger.models import LedgerTransaction
from encaisse.ledger.selectors import customer_balance
from encaisse.payments.models import PaymentMethod
from encaisse.payments.services import record_top_up

MARKER = "encaisse.demo.seeded"
SEED = 2026
MONTHS = 12
ACTOR = Actor.system("demo")
PLANS = {  # code: (name, price excl. VAT, interval)
    "essentiel": ("Hébergement Essentiel", "4.90", "month"),
    "pro": ("Hébergement Pro", "14.90", "month"),
    "vps": ("VPS", "29.00", "month"),
    "domaine-fr": ("Nom de domaine .fr", "12.00", "year"),
}
# One string per list: fifty names read better on four lines than on fifty.
FIRST_NAMES = (  # noqa: SIM905
    "Camille Léa Manon Chloé Inès Jade Louise Emma Sarah Julie Hugo Lucas Thomas Nathan Louis "
    "Gabriel Arthur Jules Paul Antoine Olivia James Emily Oliver Sophie"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre "
    "Michel Garcia David Bertrand Roux Vincent Fournier Smith Taylor Brown Wilson Walker"
).split()
COMPANIES = (
    "Boulangerie Martin SARL",
    "Atelier Numérique SAS",
    "Studio Graphique Lumière",
    "Cabinet Bernard & Associés",
    "Pixel Nord SAS",
    "Les Jardins de Provence",
    "Librairie du Marché",
    "Garage Moreau et Fils",
    "Ostéopathie Laurent",
    "Compagnie Théâtrale L'Escale",
    "Fromagerie des Alpes",
    "Agence Immobilière Roux",
    "Cave à Vins Vincent",
    "Bistrot du Port",
    "Menuiserie Fournier",
    "Green Bytes Ltd",
    "Auto-École Simon",
    "Photographie Lefebvre",
    "Coopérative Bio Val de Loire",
    "Yoga Studio Paris 11",
)
PUBLIC_BODIES = (
    "Mairie de Saint-Aubin-sur-Mer",
    "Communauté de communes du Val d'Orge",
    "Lycée Jean Moulin",
    "Médiathèque intercommunale des Coteaux",
    "Syndicat des eaux de la Vallée",
)
CITIES = (
    ("75011", "Paris"),
    ("69002", "Lyon"),
    ("13001", "Marseille"),
    ("31000", "Toulouse"),
    ("44000", "Nantes"),
    ("67000", "Strasbourg"),
    ("33000", "Bordeaux"),
    ("59000", "Lille"),
    ("35000", "Rennes"),
    ("34000", "Montpellier"),
    ("06000", "Nice"),
    ("21000", "Dijon"),
)
STREETS = (
    "rue de la République",
    "avenue Jean Jaurès",
    "rue Victor Hugo",
    "boulevard Voltaire",
    "place de la Mairie",
    "rue des Écoles",
    "chemin des Vignes",
    "rue du Port",
)
HABITS = ("prepaid", "prepaid", "prepaid", "card", "card", "late", "late", "stopped")


@dataclass
class DemoCustomer:
    customer: Customer
    habit: str  # prepaid | card | late | partial | stopped | mandat


@dataclass
class DemoResult:
    created: bool
    customers: int
    invoices: int
    open_invoices: int
    example: Customer | None
    panel_customer: Customer | None = None
    seconds: float = 0.0


@contextmanager
def pdf_rendering_off() -> Iterator[None]:
    """Billing runs would enqueue one PDF task per invoice; the demo renders them itself.

    Nor does a year of replayed history e-mail the (fictitious) customers.
    """
    previous = settings.ENCAISSE_RENDER_PDF, settings.ENCAISSE_EMAIL_NOTIFICATIONS
    settings.ENCAISSE_RENDER_PDF = settings.ENCAISSE_EMAIL_NOTIFICATIONS = False
    try:
        yield
    finally:
        settings.ENCAISSE_RENDER_PDF, settings.ENCAISSE_EMAIL_NOTIFICATIONS = previous


@contextmanager
def dated(day: dt.date, hour: int) -> Iterator[None]:
    """Record what follows as happening on ``day`` at ``hour`` (never later than now).

    The demo replays a year of history in seconds; without this every movement would be dated
    today and the customer panel's history and balance chart would show one flat day.
    """
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
    with mock.patch("django.utils.timezone.now", return_value=min(at, timezone.now())):
        yield


def make_siret(rng: random.Random, first_digit: str) -> str:
    """A SIREN with a valid Luhn key, then establishment 0001 with the SIRET's own Luhn key."""
    body = first_digit + "".join(rng.choice("0123456789") for _ in range(7))
    siren = body + luhn.calc_check_digit(body)
    return siren + "0001" + luhn.calc_check_digit(siren + "0001")


def _ascii(text: str) -> str:
    """Turn "Léa" into "lea": e-mail addresses stay ASCII (Django's validator refuses accents)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _identity(index: int, rng: random.Random) -> tuple[CustomerData, str]:
    postal_code, city = rng.choice(CITIES)
    street = f"{rng.randint(1, 120)} {rng.choice(STREETS)}"
    common = {
        "address_line1": street,
        "postal_code": postal_code,
        "city": city,
        "external_id": f"demo:{index:03d}",
    }
    if index < len(PUBLIC_BODIES):
        name = PUBLIC_BODIES[index]
        siret = make_siret(rng, "2")  # public bodies' SIRENs start with 1 or 2
        data = CustomerData(
            name=name,
            email=f"dsi{index}@collectivite.example.org",
            kind="public_body",
            siret=siret,
            **common,
        )
        return data, "mandat"
    if index < len(PUBLIC_BODIES) + len(COMPANIES):
        name = COMPANIES[index - len(PUBLIC_BODIES)]
        siret = make_siret(rng, rng.choice("3456789"))
        vat = "FR" + siren_number.to_tva(siret[:9])
        language = "en" if name.endswith("Ltd") else "fr"
        data = CustomerData(
            name=name,
            email=f"compta{index}@entreprise.example.com",
            kind="company",
            siret=siret,
            vat_number=vat,
            language=language,
            **common,
        )
        return data, rng.choice((*HABITS, "partial"))
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    language = "en" if last in {"Smith", "Taylor", "Brown", "Wilson", "Walker"} else "fr"
    data = CustomerData(
        name=f"{first} {last}",
        email=f"{_ascii(first)}.{_ascii(last)}{index}@example.net",
        kind="individual",
        language=language,
        **common,
    )
    return data, rng.choice(HABITS)


def _plans() -> dict[str, Plan]:
    plans = {}
    for code, (name, price, interval) in PLANS.items():
        plans[code], _ = Plan.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "unit_price": Decimal(price),
                "vat_rate": Decimal(20),
                "interval": interval,
            },
        )
    return plans


def _plan_codes(kind: str, rng: random.Random) -> list[str]:
    if kind == "individual":
        return ["essentiel"] + (["domaine-fr"] if rng.random() < 0.6 else [])
    main = "vps" if kind == "company" and rng.random() < 0.3 else "pro"
    return [main, "domaine-fr"]


def _customers(rng: random.Random, start: dt.date, count: int) -> list[DemoCustomer]:
    """Create (or find again) the demo customers and their subscriptions."""
    plans, result = _plans(), []
    for index in range(count):
        data, habit = _identity(index, rng)
        codes = _plan_codes(data.kind, rng)
        with transaction.atomic():
            customer = Customer.objects.filter(external_id=data.external_id).first()
            if customer is None:
                overdraft = Decimal(30) if habit == "prepaid" and index % 4 == 0 else None
                customer = create_customer(data, actor=ACTOR, overdraft=overdraft)
            if not customer.subscriptions.exists():
                for code in codes:
                    subscribe(customer.pk, plans[code].pk, start=start)
        result.append(DemoCustomer(customer, habit))
    return result


def _monthly_cost(customer: Customer) -> Decimal:
    subs = customer.subscriptions.select_related("plan")
    return sum((s.plan.unit_price * s.quantity * Decimal("1.2") for s in subs), Decimal(0))


def _round(amount: Decimal, step: int, rounding: str) -> Decimal:
    return (amount / step).quantize(Decimal(1), rounding=rounding) * step


def _pay(demo: DemoCustomer, amount: Decimal, method: str, reference: str) -> None:
    """Top up once per reference: a resumed demo must not pay a month twice (nor differently)."""
    keys = [ledger_keys.top_up(known, reference) for known in PaymentMethod.values]
    already = LedgerTransaction.objects.filter(idempotency_key__in=keys)
    if amount > 0 and not already.exists():
        record_top_up(
            demo.customer,
            amount=amount.quantize(Decimal("0.01")),
            method=method,
            reference=reference,
            actor=ACTOR,
            reason="Demo data",
        )


def _before_run(demo: DemoCustomer, month: int, rng: random.Random) -> None:
    """Money that arrives during the month, before its invoices are issued."""
    ref = f"demo-{demo.customer.number}-{month:02d}"
    habit, balance = demo.habit, customer_balance(demo.customer)
    need = 2 * _monthly_cost(demo.customer) + (Decimal(15) if month == 0 else 0)
    if habit == "prepaid" and balance.available < need:
        _pay(demo, _round(need * 3, 50, ROUND_UP), rng.choice(("bank_transfer", "paypal")), ref)
    elif habit == "stopped" and month < 7 and balance.available < need:
        _pay(demo, _round(need, 10, ROUND_UP), "card", ref)
    elif habit == "late" and month % 3 == 2 and month < 9:
        _pay(demo, balance.due, "bank_transfer", ref)
    elif habit == "partial" and month % 3 == 2:
        _pay(demo, _round(balance.due, 10, ROUND_DOWN), "bank_transfer", ref)
    elif habit == "mandat" and month % 3 == 0 and month:
        _pay(demo, balance.due, "mandat_administratif", f"MANDAT-{ref}")


def _after_run(demo: DemoCustomer, month: int) -> None:
    """Card payers settle each invoice as soon as it is issued."""
    if demo.habit == "card":
        due = customer_balance(demo.customer).due
        _pay(demo, due, "card", f"demo-card-{demo.customer.number}-{month:02d}")


def _billed(period_start: dt.date) -> bool:
    return BillingRun.objects.filter(
        period_start=period_start, status=BillingRunStatus.COMPLETED
    ).exists()


def _bill(period_start: dt.date) -> None:
    """Back-dated run of one month, issued on the 1st of the next month."""
    run = billing.start_run(
        period_start.strftime("%Y-%m"), actor=ACTOR, issue_date=add_months(period_start, 1)
    )
    billing.process_run(run, actor=ACTOR)


def _history(customers: list[DemoCustomer], first: dt.date, rng: random.Random) -> None:
    """Month by month: payments received, the back-dated billing run, card payments after it.

    A month already billed (a resumed demo) keeps its payments: they are not replayed.
    """
    for month in range(MONTHS):
        period_start = add_months(first, month)
        issue_date = add_months(period_start, 1)
        if not _billed(period_start):
            with transaction.atomic(), dated(period_start.replace(day=20), 10):
                for demo in customers:
                    _before_run(demo, month, rng)
            with dated(issue_date, 6):
                _bill(period_start)
        with transaction.atomic(), dated(issue_date, 9):
            for demo in customers:
                _after_run(demo, month)


def render_recent_pdfs(first_period: dt.date, log: Callable[[str], None]) -> int:
    """Render the PDFs of the invoices of runs from ``first_period`` on, now, in this process."""
    invoices = Invoice.objects.filter(
        billing_run__period_start__gte=first_period, pdf=""
    ).select_related("customer", "credited_invoice")
    count = 0
    for count, invoice in enumerate(invoices, start=1):
        render_invoice_pdf(invoice)
        if count % 50 == 0:
            log(f"{count} PDFs rendered")
    return count


def summary(created: bool) -> DemoResult:
    invoices = Invoice.objects.filter(customer__external_id__startswith="demo:")
    open_invoices = invoices.filter(status="open")
    example = (
        Customer.objects.filter(invoices__in=open_invoices.filter(paid__gt=0))
        .order_by("pk")
        .first()
        or Customer.objects.filter(external_id__startswith="demo:").order_by("pk").first()
    )
    # The panel's demo login: a customer who keeps a prepaid balance, so its chart has a story.
    panel_customer = (
        Customer.objects.filter(
            external_id__startswith="demo:", kind="company", accounts__kind="prepaid",
            accounts__balance__gt=0, subscriptions__isnull=False,
        )
        .order_by("pk")
        .first()
    )  # fmt: skip
    return DemoResult(
        panel_customer=panel_customer or example,
        created=created,
        customers=Customer.objects.filter(external_id__startswith="demo:").count(),
        invoices=invoices.count(),
        open_invoices=open_invoices.count(),
        example=example,
    )


def first_period(today: dt.date) -> dt.date:
    """Start of the history: the first of the month, twelve months before the current one."""
    return add_months(today.replace(day=1), -MONTHS)


def seed(
    *, customers: int = 50, pdf_months: int = 3, log: Callable[[str], None] = print
) -> DemoResult:
    """Create the demo company once; later calls only report what is there."""
    started = time.monotonic()
    if AuditLog.objects.filter(action=MARKER).exists():
        return summary(created=False)
    rng = random.Random(SEED)  # noqa: S311 - demo data, not security
    first = first_period(timezone.localdate())

    def step(text: str) -> None:
        log(f"[{time.monotonic() - started:5.1f} s] {text}")

    with pdf_rendering_off():
        step(f"Creating {customers} customers and their subscriptions…")
        demo_customers = _customers(rng, first, customers)
        step(f"Billing {MONTHS} months from {first:%Y-%m}, with payments along the way…")
        _history(demo_customers, first, rng)
    if pdf_months:
        step(f"Rendering the PDFs of the last {pdf_months} months…")
        render_recent_pdfs(add_months(first, MONTHS - pdf_months), step)
    audit.record(MARKER, actor=ACTOR, customers=customers, first_period=f"{first:%Y-%m}")
    result = summary(created=True)
    result.seconds = time.monotonic() - started
    return result
