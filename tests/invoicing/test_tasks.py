# SPDX-License-Identifier: AGPL-3.0-or-later
"""A billing chunk's follow-up task finds exactly the chunk's invoices and fans out."""

from __future__ import annotations

import pytest

from encaisse.invoicing import tasks
from encaisse.invoicing.models import BillingRunChunk, Invoice

pytestmark = pytest.mark.django_db


def test_each_chunk_enqueues_one_task_by_its_id(
    make_customer, charge, top_up, bill, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.ENCAISSE_EMAIL_NOTIFICATIONS = True  # a follow-up to do
    customers = [make_customer() for _ in range(5)]
    for customer in customers:
        charge(customer, "10.00")
    top_up(customers[0], "100.00")
    fanned_out: list[tuple[list[int], list[int]]] = []
    monkeypatch.setattr(tasks, "after_issuance", lambda ids, due: fanned_out.append((ids, due)))

    with django_capture_on_commit_callbacks(execute=True):
        bill(chunk_size=2)  # three chunks; tasks run inline in the tests

    chunks = list(BillingRunChunk.objects.order_by("index"))
    assert len(chunks) == len(fanned_out) == 3
    for chunk, (ids, due) in zip(chunks, fanned_out, strict=True):
        invoices = Invoice.objects.filter(
            customer_id__gte=chunk.first_customer_id, customer_id__lte=chunk.last_customer_id
        ).order_by("pk")
        assert ids == [invoice.pk for invoice in invoices]
        assert due == [invoice.pk for invoice in invoices if invoice.customer != customers[0]]
    assert tasks.chunk_issued.call(chunks[0].pk) == 2


def test_no_task_when_there_is_nothing_to_follow_up(
    make_customer, charge, bill, settings, django_capture_on_commit_callbacks
):
    settings.ENCAISSE_EMAIL_NOTIFICATIONS = settings.ENCAISSE_RENDER_PDF = False
    charge(make_customer(), "10.00")
    with django_capture_on_commit_callbacks() as callbacks:
        bill()
    assert callbacks == []
