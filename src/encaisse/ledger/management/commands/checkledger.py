# SPDX-License-Identifier: AGPL-3.0-or-later
"""``encaisse checkledger``: the conservation checks, for a nightly cron (non-zero exit on a problem)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from encaisse.ledger.selectors import check_ledger


class Command(BaseCommand):
    help = "Check that every transaction sums to zero, balances match entries and floors hold."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        report = check_ledger()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{report.transactions} transactions, {report.entries} entries checked in {elapsed:.2f} s"
        )
        if not report.ok:
            raise CommandError(
                f"ledger problems: unbalanced transactions {report.unbalanced_transactions}, "
                f"balances not matching entries {report.drifted_accounts}, "
                f"below floor {report.below_floor_accounts}, "
                f"amounts not whole cents within bounds {report.out_of_bounds}"
            )
        self.stdout.write("ledger OK")
