# SPDX-License-Identifier: AGPL-3.0-or-later
"""The database triggers that freeze issued invoices and their lines (CGI art. 242 nonies A).

One definition for the migrations that install them: ``0002`` first, and any later migration that
rebuilds ``invoicing_invoice`` or ``invoicing_charge`` on SQLite (which drops their triggers).
"""

from __future__ import annotations

from typing import Any

from encaisse.core.immutability import drop_triggers, forbid_changes

from .models import CHARGE_FROZEN_COLUMNS, INVOICE_FROZEN_COLUMNS


def install_frozen_triggers(schema_editor: Any) -> None:
    """Install (or install again) the triggers: an invoice row is frozen, a charge once invoiced."""
    drop_frozen_triggers(schema_editor)
    forbid_changes(schema_editor, "invoicing_invoice", frozen_columns=INVOICE_FROZEN_COLUMNS)
    forbid_changes(
        schema_editor,
        "invoicing_charge",
        frozen_columns=CHARGE_FROZEN_COLUMNS,
        only_when="OLD.invoice_id IS NOT NULL",
    )


def drop_frozen_triggers(schema_editor: Any) -> None:
    drop_triggers(schema_editor, "invoicing_invoice")
    drop_triggers(schema_editor, "invoicing_charge")
