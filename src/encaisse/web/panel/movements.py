# SPDX-License-Identifier: AGPL-3.0-or-later
"""Mouvements: every movement of the prepaid account with its reason, filterable, as CSV too.

Amounts are shown from the customer's viewpoint (+ credited to the account, − debited), which
is the prepaid account's natural orientation (a credit-normal liability of the provider).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from encaisse.core.csvsafe import safe_row
from encaisse.ledger import keys
from encaisse.ledger.models import Entry, LedgerTransaction, TransactionKind
from encaisse.ledger.selectors import customer_movements, filter_movements
from encaisse.payments.selectors import method_label

from .access import PanelRequest, customer_view

PAGE_SIZE = 50
CENT = Decimal("0.01")


@dataclass(frozen=True)
class MovementRow:
    at: dt.datetime
    kind_label: str
    description: str
    reason: str
    amount: Decimal  # + credited to the prepaid account, − debited
    invoice_id: int | None


_NUMBERED = {
    TransactionKind.INVOICE_ISSUED: _("Invoice %(number)s"),
    TransactionKind.INVOICE_SETTLED: _("Invoice %(number)s paid from the balance"),
    TransactionKind.CREDIT_NOTE: _("Credit note %(number)s"),
}


def _top_up(txn: LedgerTransaction) -> str:
    method, reference = keys.top_up_source(txn.idempotency_key)
    return gettext("Top-up by %(method)s (%(reference)s)") % {
        "method": method_label(method),
        "reference": reference,
    }


def describe(txn: LedgerTransaction, number: str = "") -> str:
    """The movement in the reader's language (the stored description is the audit's wording).

    ``number`` is the number of the transaction's invoice, if any (selected with the entry).
    """
    if txn.kind == TransactionKind.TOP_UP:
        return _top_up(txn)
    if txn.kind == TransactionKind.REVERSAL:
        return gettext("Reversal: %(description)s") % {"description": txn.description}
    if number and txn.kind in _NUMBERED:
        return str(_NUMBERED[TransactionKind(txn.kind)]) % {"number": number}
    if txn.kind == TransactionKind.INVOICE_SETTLED:
        return gettext("Amount due paid from the balance")
    return txn.description


def movement_rows(entries: Iterable[Entry]) -> list[MovementRow]:
    labels = dict(TransactionKind.choices)
    return [
        MovementRow(
            at=e.transaction.created_at,
            kind_label=str(labels.get(e.transaction.kind, e.transaction.kind)),
            description=describe(e.transaction, getattr(e, "invoice_number", None) or ""),
            reason=e.transaction.reason,
            amount=-e.amount,
            invoice_id=e.transaction.invoice_id,
        )
        for e in entries
    ]


class MovementFilterForm(forms.Form):
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput({"type": "date"})
    )
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput({"type": "date"}))
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All")), *TransactionKind.choices]
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("The start date must be before the end date."))
        return cleaned


def _filtered(request: PanelRequest) -> tuple[MovementFilterForm, QuerySet[Entry]]:
    form = MovementFilterForm(request.GET or None)
    entries = customer_movements(request.customer)
    if form.is_bound and form.is_valid():
        entries = filter_movements(
            entries,
            since=form.cleaned_data["since"],
            until=form.cleaned_data["until"],
            kind=form.cleaned_data["kind"] or None,
        )
    elif form.is_bound:
        entries = entries.none()
    return form, entries


@customer_view
def movements(request: PanelRequest) -> HttpResponse:
    form, entries = _filtered(request)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": movement_rows(page.object_list),
        "query": query.urlencode(),
    }
    return render(request, "panel/movements.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterator[Entry]) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff"  # a BOM so spreadsheet software reads the accents as UTF-8
    header = [_("Date"), _("Kind"), _("Description"), _("Reason"), _("Amount"), _("Currency")]
    yield writer.writerow(safe_row(str(title) for title in header))
    batch: list[Entry] = []
    for entry in rows:
        batch.append(entry)
        if len(batch) == 500:
            yield from _csv_rows(batch)
            batch = []
    yield from _csv_rows(batch)


def _csv_rows(entries: list[Entry]) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=";")
    for row, entry in zip(movement_rows(entries), entries, strict=True):
        at = timezone.localtime(row.at).strftime("%Y-%m-%d %H:%M")
        # A plain decimal point: spreadsheet imports and accounting tools read it unambiguously.
        # The amount stays a number (a debit's "-" is ours); text cells that a spreadsheet would
        # run as a formula (a reason typed as "=HYPERLINK(...)") are neutralised.
        amount = row.amount.quantize(CENT)
        cells = [at, row.kind_label, row.description, row.reason, amount, entry.currency]
        yield writer.writerow(safe_row(cells))


@customer_view
def movements_csv(request: PanelRequest) -> StreamingHttpResponse:
    _form, entries = _filtered(request)
    filename = f"mouvements-{request.customer.number}-{timezone.localdate():%Y%m%d}.csv"
    response = StreamingHttpResponse(
        _csv_lines(entries.iterator(chunk_size=500)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
