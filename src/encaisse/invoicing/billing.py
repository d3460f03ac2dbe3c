# SPDX-License-Identifier: AGPL-3.0-or-later
"""The billing run: invoice every customer with uninvoiced charges for a period, and settle.

``encaisse bill --period 2026-11`` (or the staff button) calls :func:`start_run` then
:func:`process_run`. A run is cut into chunks of customers by id range when it starts; each chunk
is one database transaction that issues, settles and marks itself done. Killed at any point, the
run resumes where it stopped: a chunk is either wholly committed (and ``done``) or not at all, and
the unique (run, customer) constraint on invoices backs this up. Several workers (threads of one
process, :func:`process_run`, or processes on several machines) may work on one run: on PostgreSQL
each claims the next pending chunk with ``FOR UPDATE SKIP LOCKED``, and chunks queue only for the
end of their transaction, where they take the invoice numbers and the shared accounts
(:mod:`.issuance`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.exceptions import ValidationError
from encaisse.core.sql import db_date, table

from .followups import after_chunk_issued
from .issuance import issue_invoices, revenue_and_vat_accounts
from .models import BillingRun, BillingRunChunk, BillingRunStatus, Charge, ChunkStatus, Invoice
from .subscriptions import generate_charges


def parse_period(value: str) -> tuple[dt.date, dt.date]:
    """``"2026-11"`` → (2026-11-01, 2026-11-30)."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", value or "")
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 2000:
        raise ValidationError(_("“%(value)s” is not a period such as 2026-11."), value=value)
    year, month = int(match[1]), int(match[2])
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _plan_chunks(run: BillingRun, chunk_size: int) -> int:
    """Cut the customers having charges to invoice into id ranges of ``chunk_size`` customers."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT customer_id FROM {table(Charge)} "
            "WHERE invoice_id IS NULL AND period_start <= %s ORDER BY customer_id",
            [db_date(run.period_end)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    chunks = [
        BillingRunChunk(
            run=run,
            index=index,
            first_customer_id=ids[start],
            last_customer_id=ids[min(start + chunk_size, len(ids)) - 1],
        )
        for index, start in enumerate(range(0, len(ids), chunk_size))
    ]
    BillingRunChunk.objects.bulk_create(chunks, batch_size=1000)
    return len(chunks)


def start_run(
    period: str,
    *,
    actor: Actor,
    chunk_size: int | None = None,
    issue_date: dt.date | None = None,
) -> BillingRun:
    """Resume the unfinished run of ``period``, or start one (generating subscription charges first).

    ``issue_date`` defaults to today; the demo back-dates past periods to build a history.
    """
    period_start, period_end = parse_period(period)
    generate_charges(period_end=period_end, actor=actor)
    running = BillingRun.objects.filter(period_start=period_start, status="running")
    try:
        with transaction.atomic(durable=True):
            revenue_and_vat_accounts()
            run = running.first()
            if run is not None:
                return run
            run = BillingRun.objects.create(
                period_start=period_start,
                period_end=period_end,
                issue_date=issue_date or timezone.localdate(),
                **actor.fields(),
            )
            count = _plan_chunks(run, chunk_size or settings.ENCAISSE_BILLING_CHUNK_SIZE)
            audit.record(
                "encaisse.billing_run.started", actor=actor, obj=run, chunks=count, period=period
            )
    except IntegrityError:
        # Another process started this period's run between our look-up and our insert
        # (unique constraint billing_run_one_running_per_period): join that run.
        return running.get()
    return run


def _claim_next_chunk(run: BillingRun) -> BillingRunChunk | None:
    pending = BillingRunChunk.objects.filter(run=run, status=ChunkStatus.PENDING).order_by("index")
    if connection.features.has_select_for_update_skip_locked:
        pending = pending.select_for_update(skip_locked=True)
    return pending.first()


def process_next_chunk(run: BillingRun, *, actor: Actor) -> BillingRunChunk | None:
    """Issue one pending chunk in one transaction; ``None`` when no chunk is left to claim."""
    with transaction.atomic(durable=True):
        chunk = _claim_next_chunk(run)
        if chunk is None:
            return None
        result = issue_invoices(
            first_customer_id=chunk.first_customer_id,
            last_customer_id=chunk.last_customer_id,
            period_end=run.period_end,
            issue_date=run.issue_date,
            actor=actor,
            run_id=run.pk,
            with_ids=False,
        )
        chunk.status = ChunkStatus.DONE
        chunk.invoice_count = result.count
        chunk.processed_at = timezone.now()
        chunk.save(update_fields=["status", "invoice_count", "processed_at"])
        if result.count:
            after_chunk_issued(chunk.pk)
    return chunk


@dataclass
class RunSummary:
    run: BillingRun
    invoices: int
    total: object
    settled: object
    chunks_done: int
    set_aside: int = 0


def _finish(run: BillingRun, *, actor: Actor) -> None:
    with transaction.atomic(durable=True):
        run = BillingRun.objects.select_for_update().get(pk=run.pk)
        if run.status == BillingRunStatus.COMPLETED or run.chunks.filter(status="pending").exists():
            return
        run.status = BillingRunStatus.COMPLETED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at"])
        audit.record("encaisse.billing_run.completed", actor=actor, obj=run)


def process_run(
    run: BillingRun,
    *,
    actor: Actor,
    progress: Callable[[BillingRunChunk], None] | None = None,
    workers: int | None = None,
) -> RunSummary:
    """Work through the run's pending chunks (resumable), then mark it completed.

    ``workers`` (default ``ENCAISSE_BILLING_WORKERS``) chunks at a time on PostgreSQL; one on
    SQLite (a single writer), and one inside a caller's transaction (other connections could not
    see its rows)."""
    workers = workers or settings.ENCAISSE_BILLING_WORKERS
    if workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block:
        _work_in_parallel(run, actor, progress, workers)
    else:
        _work(run, actor, progress)
    _finish(run, actor=actor)
    return summarize(run)


def _work(
    run: BillingRun, actor: Actor, progress: Callable[[BillingRunChunk], None] | None
) -> None:
    while (chunk := process_next_chunk(run, actor=actor)) is not None:
        if progress is not None:
            progress(chunk)


def _work_in_parallel(
    run: BillingRun,
    actor: Actor,
    progress: Callable[[BillingRunChunk], None] | None,
    workers: int,
) -> None:
    """Threads, each with its own database connection (Django's are per thread): a chunk's work
    runs in the database server, so the GIL is not what limits them. A worker's error is raised
    once all have stopped; the chunks the others committed stay done, the failed one pending."""
    reporting = threading.Lock()

    def report(chunk: BillingRunChunk) -> None:
        if progress is not None:
            with reporting:
                progress(chunk)

    def work() -> None:
        try:
            _work(run, actor, report)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="billing") as pool:
        for future in [pool.submit(work) for _ in range(workers)]:
            future.result()


def summarize(run: BillingRun) -> RunSummary:
    run.refresh_from_db()
    totals = Invoice.objects.filter(billing_run=run).aggregate(
        n=Count("id"), total=Sum("total_incl_vat"), settled=Sum("paid")
    )
    done = run.chunks.filter(~Q(status=ChunkStatus.PENDING)).count()
    aside = run.set_aside.count()
    return RunSummary(run, totals["n"], totals["total"], totals["settled"], done, aside)
