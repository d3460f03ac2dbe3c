# SPDX-License-Identifier: AGPL-3.0-or-later
"""What follows an issuance, plugged in by the layers above invoicing.

Invoicing issues documents; other apps act on them: the PDF is rendered (invoicing itself),
the customer is e-mailed (``notifications``), what the balance did not cover is collected
(``payments``), the invoice is sent to Chorus Pro (``einvoicing``, later). Invoicing may not
import them (layers, ``core.registry``): each registers an :class:`IssuanceHook` in its
``AppConfig.ready()``, and invoicing calls every registered hook with the documents it issued:
:func:`documents_issued` and :func:`credit_note_issued`. A hook only enqueues background tasks:
with the database task backend the calls happen inside the issuing transaction, so the tasks
commit (or roll back) with the documents and a crash right after COMMIT loses none of them;
with another backend they happen after COMMIT (``core.background``). Either way the work itself
runs after COMMIT, in the worker, and never sees a document that a rollback removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from encaisse.core.background import enqueue_with_the_transaction
from encaisse.core.registry import Registry


class IssuanceHook:
    """Contract of a follow-up of issuance. ``identifier`` is required and unique."""

    identifier: ClassVar[str]

    def wanted(self) -> bool:
        """Whether this hook has anything to do under the current settings.

        Asked inside the issuing transaction (a billing chunk enqueues its follow-up task only
        when some hook wants it); must be cheap and read settings only, no database."""
        return True

    def documents_issued(self, invoice_ids: Sequence[int], due_invoice_ids: Sequence[int]) -> None:
        """Invoices were issued and committed: ``invoice_ids`` in number order, of which
        ``due_invoice_ids`` are left (partly) due after the prepaid balance was applied.

        Called in the issuing transaction (or just after its COMMIT, see the module docstring),
        possibly with thousands of ids (a billing chunk). **Must only enqueue tasks** (which
        take ids and are idempotent): no rendering, sending, collecting nor any network call
        here, and nothing that could fail the caller. May be called twice with the same ids (a
        retried follow-up task)."""

    def credit_note_issued(self, credit_note_id: int, invoice_id: int) -> None:
        """A credit note of ``invoice_id`` was issued and committed.

        Same rules as :meth:`documents_issued`: only enqueue tasks."""


hooks: Registry[IssuanceHook] = Registry("issuance hooks")


def follow_up_wanted() -> bool:
    return any(hook.wanted() for hook in hooks)


def documents_issued(invoice_ids: Sequence[int], due_invoice_ids: Sequence[int]) -> None:
    """Call every hook with these documents, so that what they enqueue commits with them."""
    if not invoice_ids:
        return
    ids, due = list(invoice_ids), list(due_invoice_ids)

    def fire() -> None:
        for hook in hooks:
            if hook.wanted():
                hook.documents_issued(ids, due)

    enqueue_with_the_transaction(fire)


def credit_note_issued(credit_note_id: int, invoice_id: int) -> None:
    def fire() -> None:
        for hook in hooks:
            if hook.wanted():
                hook.credit_note_issued(credit_note_id, invoice_id)

    enqueue_with_the_transaction(fire)
