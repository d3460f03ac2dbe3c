# SPDX-License-Identifier: AGPL-3.0-or-later
"""References between money rows hold even in raw SQL, on both engines.

PostgreSQL checks them once per statement with the triggers of ``core.integrity`` (its native
foreign keys on these columns are dropped by migrations), a parent not written yet again at
COMMIT; SQLite with its native foreign keys, deferred to COMMIT. ``connection.check_constraints()``
runs the deferred checks of both on the spot. Each forbidden
write runs in its own savepoint, and the rows are counted afterwards to prove nothing was written.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction

from encaisse.invoicing.models import Charge, Invoice
from encaisse.ledger.models import Account, Entry, LedgerTransaction

pytestmark = pytest.mark.django_db

MISSING = 987_654_321
INVOICE_COLUMNS = (
    "number, kind, customer_id, issue_date, due_date, currency, total_excl_vat, total_vat, "
    "total_incl_vat, vat_rate, buyer_id, billing_run_id, paid, credited, status, pdf, created_at"
)
INVOICE_VALUES = (
    "%s, 'invoice', %s, '2026-11-30', '2026-12-30', 'EUR', 0, 0, 0, 2000, %s, %s, 0, 0, 'paid', "
    "'', '2026-11-30 00:00:00'"
)


def _refused(sql: str, params: list) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        connection.check_constraints()  # SQLite's deferred foreign keys, checked now


@pytest.fixture
def issued(make_customer, charge, top_up, bill):
    customer = make_customer()
    charge(customer, "10.00")
    top_up(customer, "4.00")
    assert bill().invoices == 1
    return Invoice.objects.get(customer=customer)


def test_an_entry_needs_an_existing_transaction_and_account(issued):
    txn = LedgerTransaction.objects.filter(invoice=issued).first()
    account = Account.objects.get(customer=issued.customer, kind="prepaid")
    before = Entry.objects.count()
    sql = "INSERT INTO ledger_entry (transaction_id, account_id, amount, currency) VALUES (%s, %s, 0, 'EUR')"
    _refused(sql, [MISSING, account.pk])
    _refused(sql, [txn.pk, MISSING])
    assert Entry.objects.count() == before


def test_an_invoice_needs_an_existing_customer_run_and_buyer(issued):
    sql = f"INSERT INTO invoicing_invoice ({INVOICE_COLUMNS}) VALUES ({INVOICE_VALUES})"
    _refused(sql, ["X-1", MISSING, issued.buyer_id, None])
    _refused(sql, ["X-2", issued.customer_id, issued.buyer_id, MISSING])
    _refused(sql, ["X-3", issued.customer_id, MISSING, None])
    assert Invoice.objects.count() == 1


def test_a_charge_cannot_be_put_on_a_missing_invoice(make_customer, charge):
    line = charge(make_customer(), "3.00")
    _refused("UPDATE invoicing_charge SET invoice_id = %s WHERE id = %s", [MISSING, line.pk])
    assert Charge.objects.get(pk=line.pk).invoice_id is None


def test_referenced_rows_cannot_be_deleted_or_renumbered(issued):
    account = Account.objects.get(customer=issued.customer, kind="prepaid")
    _refused("DELETE FROM ledger_account WHERE id = %s", [account.pk])
    _refused("UPDATE ledger_account SET id = %s WHERE id = %s", [MISSING, account.pk])
    _refused("DELETE FROM customers_customer WHERE id = %s", [issued.customer_id])
    _refused("DELETE FROM invoicing_billingrun WHERE id = %s", [issued.billing_run_id])
    assert Account.objects.filter(pk=account.pk).exists()
    assert Invoice.objects.filter(pk=issued.pk, customer_id=issued.customer_id).exists()


def test_accounts_are_never_deleted_nor_given_another_owner(make_customer):
    """Even an account without entries: a concurrent transaction may be writing its first ones."""
    first, second = make_customer(), make_customer()
    account = Account.objects.get(customer=first, kind="receivable")
    _refused("DELETE FROM ledger_account WHERE id = %s", [account.pk])
    _refused("UPDATE ledger_account SET customer_id = %s WHERE id = %s", [second.pk, account.pk])
    _refused("UPDATE ledger_account SET kind = 'prepaid' WHERE id = %s", [account.pk])
    with transaction.atomic(), connection.cursor() as cursor:  # its balance and floor may move
        cursor.execute("UPDATE ledger_account SET floor = -500 WHERE id = %s", [account.pk])
    account.refresh_from_db()
    assert (account.customer_id, account.kind, account.floor) == (first.pk, "receivable", -5)


def test_an_update_naming_a_frozen_column_passes_only_if_it_keeps_its_value(make_customer):
    """The trigger fires only for an UPDATE that sets a frozen column (``UPDATE OF``): a full
    ``save()`` sets them all to their own values and must pass, a changed one must not."""
    account = Account.objects.get(customer=make_customer(), kind="prepaid")
    account.floor = Decimal("-10.00")
    with transaction.atomic():
        account.save()  # every column, frozen ones included, unchanged
    _refused(
        "UPDATE ledger_account SET balance = balance, currency = 'USD' WHERE id = %s", [account.pk]
    )
    account.refresh_from_db()
    assert (account.currency, account.floor) == ("EUR", Decimal("-10.00"))


def test_the_postgresql_checks_are_statement_triggers():
    """On PostgreSQL the native foreign keys of these columns are gone: the triggers above, not a
    constraint, refused those writes."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps its native foreign keys")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, a.attname FROM pg_constraint c JOIN pg_attribute a "
            "ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) WHERE c.contype = 'f'"
        )
        foreign_keys = set(cursor.fetchall())
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'encaisse_ref%%'")
        triggers = {name for (name,) in cursor.fetchall()}
    for child, column in (
        ("ledger_entry", "transaction_id"),
        ("ledger_entry", "account_id"),
        ("ledger_ledgertransaction", "customer_id"),
        ("ledger_ledgertransaction", "invoice_id"),
        ("invoicing_invoice", "customer_id"),
        ("invoicing_invoice", "billing_run_id"),
        ("invoicing_charge", "invoice_id"),
        ("invoicing_invoice", "buyer_id"),
    ):
        assert (child, column) not in foreign_keys
        assert f"encaisse_ref_{child}_{column}_insert" in triggers
        assert f"encaisse_refd_{child}_{column}" in triggers
    assert "encaisse_ref_invoicing_charge_invoice_id_update" in triggers


def _pending_references() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM encaisse_pending_reference")
        return int(cursor.fetchone()[0])


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="SQLite's native foreign keys are deferred already (and its accounts cannot be flushed)",
)
@pytest.mark.django_db(transaction=True)
def test_a_missing_parent_fails_the_commit_and_a_parent_written_later_is_accepted(
    make_customer, charge
):
    """As Django's deferred foreign keys: a child may come before its parent in a transaction
    (the billing run attaches charges before it inserts their invoice), but a transaction that
    still lacks the parent at COMMIT is refused as a whole."""
    customer = make_customer()
    line, late = charge(customer, "3.00"), charge(customer, "4.00")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE invoicing_charge SET invoice_id = %s WHERE id = %s", [MISSING, line.pk]
        )
    assert Charge.objects.get(pk=line.pk).invoice_id is None

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('invoicing_invoice', 'id'))")
        (invoice_id,) = cursor.fetchone()
        cursor.execute(
            "UPDATE invoicing_charge SET invoice_id = %s WHERE id = %s", [invoice_id, late.pk]
        )
        assert _pending_references() == 1
        cursor.execute(
            f"INSERT INTO invoicing_invoice (id, {INVOICE_COLUMNS}) VALUES (%s, {INVOICE_VALUES})",
            [invoice_id, "X-1", customer.pk, customer.identities.get().pk, None],
        )
    assert Charge.objects.get(pk=late.pk).invoice_id == invoice_id
    assert _pending_references() == 0  # checked at COMMIT, then forgotten
