# SPDX-License-Identifier: AGPL-3.0-or-later
"""The database triggers that freeze issued invoices and their lines (CGI art. 242 nonies A).

One definition for the migrations that install them: ``0002`` first, and any later migration that
rebuilds ``invoicing_invoice`` or ``invoicing_charge`` on SQLite (which drops their triggers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from encaisse.core.immutability import drop_triggers, forbid_changes

from .models import CHARGE_FROZEN_COLUMNS, INVOICE_FROZEN_COLUMNS

#: The invoice's frozen columns before migration 0006 (buyer and VAT breakdown stored as JSON):
#: what migrations 0002–0005 install, on the table as they know it.
INVOICE_FROZEN_COLUMNS_0002 = (
    "number",
    "kind",
    "customer_id",
    "issue_date",
    "due_date",
    "period_start",
    "period_end",
    "currency",
    "total_excl_vat",
    "total_vat",
    "total_incl_vat",
    "vat_breakdown",
    "buyer",
    "credited_invoice_id",
    "billing_run_id",
)


def install_frozen_triggers(
    schema_editor: Any, invoice_columns: Sequence[str] = INVOICE_FROZEN_COLUMNS
) -> None:
    """Install (or install again) the triggers: an invoice row is frozen, a charge once invoiced.

    A migration passes the columns of the table as it leaves it (the model's may have moved on)."""
    drop_frozen_triggers(schema_editor)
    forbid_changes(schema_editor, "invoicing_invoice", frozen_columns=invoice_columns)
    forbid_changes(
        schema_editor,
        "invoicing_charge",
        frozen_columns=CHARGE_FROZEN_COLUMNS,
        only_when="OLD.invoice_id IS NOT NULL",
    )


def drop_frozen_triggers(schema_editor: Any) -> None:
    drop_triggers(schema_editor, "invoicing_invoice")
    drop_triggers(schema_editor, "invoicing_charge")
