# SPDX-License-Identifier: AGPL-3.0-or-later
"""``encaisse bill --period 2026-11``: run (or resume) the billing run of a period."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from encaisse.core.actors import Actor
from encaisse.core.exceptions import EncaisseError
from encaisse.invoicing import billing


class Command(BaseCommand):
    help = "Invoice every customer with uninvoiced charges for a period and settle from balances."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--period", required=True, help="billing period, e.g. 2026-11")
        parser.add_argument("--chunk-size", type=int, default=None)
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="chunks at a time on PostgreSQL (default: ENCAISSE_BILLING_WORKERS)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("billing-run")
        try:
            run = billing.start_run(
                options["period"], actor=actor, chunk_size=options["chunk_size"]
            )
        except EncaisseError as exc:
            raise CommandError(str(exc)) from exc
        pending = run.chunks.filter(status="pending").count()
        show = not options["no_progress"] and sys.stderr.isatty()
        with tqdm(total=pending, unit="chunk", disable=not show, desc=f"billing {run}") as bar:
            summary = billing.process_run(
                run,
                actor=actor,
                progress=lambda chunk: bar.update(1),
                workers=options["workers"],
            )
        self.stdout.write(
            f"Billing run {summary.run} {summary.run.status}: {summary.invoices} invoices, "
            f"total {summary.total or 0}, settled from balances {summary.settled or 0}."
            + (
                f" {summary.set_aside} customer(s) set aside (see the run in the back-office)."
                if summary.set_aside
                else ""
            )
        )
