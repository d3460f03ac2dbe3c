# SPDX-License-Identifier: AGPL-3.0-or-later
"""I5: entries, journal transactions, the audit log and issued invoices are never updated or deleted.

Each test tries the forbidden change twice: through the ORM (which refuses before any SQL) and in
raw SQL through ``connection.cursor()`` (which only the database triggers of
``core.immutability`` can stop: a shell, a migration or a bulk script would not go through the
ORM). Every attempt runs in its own ``transaction.atomic()`` so that PostgreSQL can go on after
the error, and the row is re-read afterwards to prove it did not change.

The raw SQL is checked to fail *at the statement* (inside the savepoint, before any commit), so
the refusal comes from the triggers and not from deferred foreign-key checks.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from encaisse.core.immutability import AppendOnlyError
from encaisse.core.models import AuditLog
from encaisse.invoicing.models import Charge, Invoice, InvoiceStatus
from encaisse.ledger.models import Entry, LedgerTransaction

pytestmark = pytest.mark.django_db


def _row(table: str, pk: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()


def _refused(sql: str, params: list | tuple = ()) -> None:
    """Run ``sql`` in a savepoint and require the database to refuse that very statement."""
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        # Only reached if the statement was accepted: the test then fails on the missing error.


def _accepted(sql: str, params: list | tuple = ()) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@pytest.fixture
def issued(make_customer, charge, top_up, bill):
    """A billing run's output: one partly paid invoice with two lines, its ledger, its audit rows."""
    customer = make_customer()
    charge(customer, "10.00", description="Hébergement")
    charge(customer, "5.00", vat_rate="10", description="Nom de domaine")
    top_up(customer, "4.00")
    summary = bill()
    assert summary.invoices == 1
    invoice = Invoice.objects.get(customer=customer)
    assert invoice.billing_run_id == summary.run.pk
    assert invoice.status == InvoiceStatus.OPEN  # 17.50 due, 4.00 paid: settlement may still move
    return invoice


# --- Ledger: entries and journal transactions ---------------------------------------------------


@pytest.mark.parametrize(
    ("table", "assignment"),
    [
        ("ledger_entry", "amount = amount + 1"),
        ("ledger_entry", "account_id = account_id"),  # even a no-op UPDATE is refused
        ("ledger_ledgertransaction", "description = 'edited'"),
        ("ledger_ledgertransaction", "idempotency_key = idempotency_key || ':x'"),
        ("core_auditlog", "reason = 'rewritten history'"),
        ("core_auditlog", "action = 'encaisse.nothing'"),
    ],
)
def test_raw_sql_update_of_append_only_rows_is_refused(issued, table, assignment):
    """No UPDATE of an entry, a journal transaction or an audit row gets past the database."""
    pk = _any_id(table)
    before = _row(table, pk)

    _refused(f"UPDATE {table} SET {assignment} WHERE id = %s", [pk])

    assert _row(table, pk) == before


@pytest.mark.parametrize("table", ["ledger_entry", "ledger_ledgertransaction", "core_auditlog"])
def test_raw_sql_delete_of_append_only_rows_is_refused(issued, table):
    """No DELETE of an entry, a journal transaction or an audit row gets past the database."""
    pk = _any_id(table)
    before = _row(table, pk)
    count = _count(table)

    _refused(f"DELETE FROM {table} WHERE id = %s", [pk])
    _refused(f"DELETE FROM {table}")

    assert _row(table, pk) == before
    assert _count(table) == count


def _any_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id) FROM {table}")
        (pk,) = cursor.fetchone()
    assert pk is not None, f"{table} is empty: the fixture should have written to it"
    return pk


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    ("model", "field"),
    [(Entry, "amount"), (LedgerTransaction, "description"), (AuditLog, "reason")],
)
def test_orm_refuses_to_save_or_delete_an_existing_append_only_row(issued, model, field):
    """``save()``/``delete()`` on a stored row and queryset ``update()``/``delete()`` all raise."""
    obj = model.objects.order_by("pk").first()
    before = _row(model._meta.db_table, obj.pk)
    count = model.objects.count()

    for attempt in (
        obj.save,
        obj.delete,
        lambda: model.objects.filter(pk=obj.pk).update(pk=obj.pk),
        lambda: model.objects.filter(pk=obj.pk).delete(),
        lambda: model.objects.all().delete(),
        lambda: model.objects.bulk_update([obj], [field]),
    ):
        with pytest.raises(AppendOnlyError), transaction.atomic():
            attempt()

    assert _row(model._meta.db_table, obj.pk) == before
    assert model.objects.count() == count


def test_a_hand_built_entry_cannot_overwrite_a_stored_one(issued):
    """An instance built with an existing pk slips past the ORM guard; the trigger still refuses."""
    stored = Entry.objects.order_by("pk").first()
    before = _row("ledger_entry", stored.pk)
    forged = Entry(
        pk=stored.pk,
        transaction_id=stored.transaction_id,
        account_id=stored.account_id,
        amount=stored.amount + Decimal("1000.00"),
        currency=stored.currency,
    )

    with pytest.raises(DatabaseError), transaction.atomic():
        forged.save(force_update=True)

    assert _row("ledger_entry", stored.pk) == before


# --- Issued invoices and their lines ------------------------------------------------------------

FROZEN_INVOICE_CHANGES = {
    "number": ("number = %s", ["FA1999-999999"]),
    "issue_date": ("issue_date = %s", [dt.date(2020, 1, 1)]),
    "due_date": ("due_date = %s", [dt.date(2099, 1, 1)]),
    "customer_id": ("customer_id = customer_id + 1", []),
    "total_incl_vat": ("total_incl_vat = total_incl_vat - 100", []),
    "total_excl_vat": ("total_excl_vat = total_excl_vat - 100", []),
    "total_vat": ("total_vat = 0", []),
    "vat_rate": ("vat_rate = 550", []),
    "vat_breakdown_rows": (
        "vat_rate = NULL, vat_breakdown_rows = %s",
        [json.dumps([{"rate": "0.00", "base": "0", "vat": "0"}] * 2)],
    ),
    # Another customer's version (make_customer() below writes it): issued invoices keep theirs.
    "buyer_id": ("buyer_id = (SELECT MAX(id) FROM customers_billingidentity)", []),
    "period_end": ("period_end = %s", [dt.date(2030, 12, 31)]),
}


@pytest.mark.parametrize("column", sorted(FROZEN_INVOICE_CHANGES))
def test_raw_sql_cannot_change_the_content_of_an_issued_invoice(issued, make_customer, column):
    """Number, dates, customer, buyer and amounts of an issued invoice are frozen (CGI 242 nonies A)."""
    make_customer()  # so that customer_id + 1 exists and only the trigger can object
    assignment, params = FROZEN_INVOICE_CHANGES[column]
    if column == "vat_breakdown_rows" and connection.vendor == "postgresql":
        assignment = assignment.replace("%s", "%s::jsonb")
    before = _row("invoicing_invoice", issued.pk)

    _refused(f"UPDATE invoicing_invoice SET {assignment} WHERE id = %s", [*params, issued.pk])

    assert _row("invoicing_invoice", issued.pk) == before


def test_an_issued_invoice_cannot_be_deleted(issued):
    """Neither raw SQL nor the ORM deletes an issued invoice."""
    before = _row("invoicing_invoice", issued.pk)

    _refused("DELETE FROM invoicing_invoice WHERE id = %s", [issued.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        Invoice.objects.filter(pk=issued.pk).update(number="FA1999-000001")
    with pytest.raises(DatabaseError), transaction.atomic():
        issued.delete()  # ProtectedError (an IntegrityError) from the lines, or the trigger

    assert _row("invoicing_invoice", issued.pk) == before


def test_settlement_columns_and_pdf_of_an_issued_invoice_may_still_change(issued):
    """Only ``paid``, ``status`` and ``pdf`` move after issuance (the settlement state)."""
    assert (
        _accepted(
            "UPDATE invoicing_invoice SET paid = paid + 100, pdf = %s WHERE id = %s",
            ["invoices/2026/11/x.pdf", issued.pk],
        )
        == 1
    )
    issued.refresh_from_db()
    assert issued.paid == Decimal("5.00")
    assert issued.pdf.name == "invoices/2026/11/x.pdf"

    issued.paid = issued.total_incl_vat
    issued.status = InvoiceStatus.PAID
    issued.save(update_fields=["paid", "status"])
    issued.refresh_from_db()
    assert issued.status == InvoiceStatus.PAID
    assert issued.amount_due == 0


@pytest.mark.parametrize(
    ("assignment", "params"),
    [
        ("amount = amount + 100", []),
        ("description = %s", ["Something else"]),
        ("invoice_id = NULL", []),
        ("unit_price = unit_price * 2", []),
        ("vat_rate = 0", []),
        ("quantity = quantity + 10000", []),
    ],
)
def test_a_line_of_an_issued_invoice_cannot_be_updated(issued, assignment, params):
    """An invoiced charge is the invoice's line: amount, text and invoice link are frozen."""
    line = issued.lines.order_by("pk").first()
    before = _row("invoicing_charge", line.pk)

    _refused(f"UPDATE invoicing_charge SET {assignment} WHERE id = %s", [*params, line.pk])

    assert _row("invoicing_charge", line.pk) == before


def test_a_line_of_an_issued_invoice_cannot_be_deleted(issued):
    """Neither raw SQL nor the ORM removes a line from an issued invoice."""
    lines = list(issued.lines.order_by("pk").values_list("pk", flat=True))
    assert len(lines) == 2

    _refused("DELETE FROM invoicing_charge WHERE id = %s", [lines[0]])
    _refused("DELETE FROM invoicing_charge WHERE invoice_id = %s", [issued.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        Charge.objects.filter(pk=lines[0]).delete()

    assert list(issued.lines.order_by("pk").values_list("pk", flat=True)) == lines


def test_an_uninvoiced_charge_can_still_be_changed_or_deleted(issued, make_customer, charge, actor):
    """The freeze starts with the invoice: a pending charge may be corrected or cancelled."""
    from encaisse.invoicing.charges import cancel_charge

    customer = make_customer()
    first = charge(customer, "3.00")
    second = charge(customer, "4.00")

    assert _accepted("UPDATE invoicing_charge SET amount = 350 WHERE id = %s", [first.pk]) == 1
    assert _accepted("DELETE FROM invoicing_charge WHERE id = %s", [first.pk]) == 1
    cancel_charge(second, actor=actor, reason="ordered by mistake")

    assert not Charge.objects.filter(pk__in=[first.pk, second.pk]).exists()
    assert issued.lines.count() == 2
