# SPDX-License-Identifier: AGPL-3.0-or-later
"""Issuance hooks: a billing chunk's follow-up task finds exactly the chunk's invoices, every
registered hook is called after commit (never inside the money transaction), credit notes too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from django.db import connection, transaction

from encaisse.core.registry import DuplicateIdentifier
from encaisse.invoicing import followups, hooks
from encaisse.invoicing.credit_notes import issue_credit_note
from encaisse.invoicing.issuance import issue_invoice_now
from encaisse.invoicing.models import BillingRunChunk, Invoice

pytestmark = pytest.mark.django_db


class Recorder(hooks.IssuanceHook):
    identifier = "test-recorder"

    def __init__(self) -> None:
        self.issued: list[tuple[list[int], list[int], bool]] = []
        self.credit_notes: list[tuple[int, int, bool]] = []

    def documents_issued(self, invoice_ids: Sequence[int], due_invoice_ids: Sequence[int]) -> None:
        in_transaction = connection.in_atomic_block and not connection.savepoint_ids
        self.issued.append((list(invoice_ids), list(due_invoice_ids), in_transaction))

    def credit_note_issued(self, credit_note_id: int, invoice_id: int) -> None:
        self.credit_notes.append((credit_note_id, invoice_id, connection.in_atomic_block))


@pytest.fixture
def recorder():
    hook = Recorder()
    hooks.hooks.register(hook)
    yield hook
    hooks.hooks.unregister(hook.identifier)


def test_each_chunk_enqueues_one_task_by_its_id_which_calls_the_hooks(
    make_customer, charge, top_up, bill, recorder, django_capture_on_commit_callbacks
):
    customers = [make_customer() for _ in range(5)]
    for customer in customers:
        charge(customer, "10.00")
    top_up(customers[0], "100.00")

    with django_capture_on_commit_callbacks(execute=True):
        bill(chunk_size=2)  # three chunks; tasks run inline in the tests

    chunks = list(BillingRunChunk.objects.order_by("index"))
    assert len(chunks) == len(recorder.issued) == 3
    for chunk, (ids, due, _) in zip(chunks, recorder.issued, strict=True):
        invoices = Invoice.objects.filter(
            customer_id__gte=chunk.first_customer_id, customer_id__lte=chunk.last_customer_id
        ).order_by("pk")
        assert ids == [invoice.pk for invoice in invoices]
        assert due == [invoice.pk for invoice in invoices if invoice.customer != customers[0]]
    assert followups.chunk_issued.call(chunks[0].pk) == 2


def test_no_task_when_no_hook_has_anything_to_do(
    make_customer, charge, bill, settings, django_capture_on_commit_callbacks
):
    settings.ENCAISSE_EMAIL_NOTIFICATIONS = settings.ENCAISSE_RENDER_PDF = False
    settings.ENCAISSE_COLLECTION_POLICY = ["prepaid_balance", "bank_transfer"]
    charge(make_customer(), "10.00")
    with django_capture_on_commit_callbacks() as callbacks:
        bill()
    assert callbacks == []


def test_a_credit_note_calls_the_hooks_once_committed_not_before(
    make_customer, charge, bill, actor, recorder, django_capture_on_commit_callbacks
):
    charge(make_customer(), "10.00")
    bill()
    invoice = Invoice.objects.get()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        note = issue_credit_note(invoice, actor=actor, reason="Geste commercial")
    assert recorder.credit_notes == []  # nothing inside the transaction
    for callback in callbacks:
        callback()
    assert [(n, i) for n, i, _ in recorder.credit_notes] == [(note.pk, invoice.pk)]


def test_a_rolled_back_issuance_calls_no_hook(make_customer, charge, actor, recorder):
    customer = make_customer()
    charge(customer, "10.00")
    with pytest.raises(RuntimeError), transaction.atomic():
        issue_invoice_now(customer, period_end=dt.date(2026, 11, 30), actor=actor)
        raise RuntimeError("rolled back")
    assert recorder.issued == []


def test_a_second_hook_under_one_identifier_is_refused(recorder):
    with pytest.raises(DuplicateIdentifier):
        hooks.hooks.register(Recorder())


def test_the_apps_register_their_follow_ups():
    assert {"pdf", "email", "collection"} <= {hook.identifier for hook in hooks.hooks}
