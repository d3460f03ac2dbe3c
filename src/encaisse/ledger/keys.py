# SPDX-License-Identifier: AGPL-3.0-or-later
"""Idempotency keys of journal transactions: one function per kind of movement.

A key names the *source* of a movement (the PSP's payment id, the bank's entry reference, the
invoice being issued), so that the same source posts once however often it is replayed: a
retried webhook, a re-imported statement, a billing chunk resumed after a crash
(ledger-and-reliability.md, invariant I4). ``ledger.services.post`` and ``ledger.batch`` refuse a
second transaction with a key already posted. Keys are built here and nowhere else: two modules
spelling the same movement differently would post it twice.

Settlements from the prepaid balance are keyed by the invoice (or the customer's debt) *and* by
the event that made money available, the **trigger**, so one top-up settles an invoice once, and
a later top-up may settle what is left of it.

>>> top_up("card", "pi_3Q")
'topup:card:pi_3Q'
>>> invoice_issued(42)
'invoice:42:issued'
>>> invoice_settled(42, trigger=after_top_up(7))
'invoice:42:settled:topup:7'
>>> debt_settled(3, trigger=after_credit_note(9))
'debt:3:settled:credit_note:9'
>>> reversal(7)
'reversal:7'
>>> refund(7, "re_1")
'refund:7:re_1'
"""

from __future__ import annotations

#: ``ledger_ledgertransaction.idempotency_key`` holds 200 characters.
MAX_LENGTH = 200


def _key(*parts: object) -> str:
    key = ":".join(str(part) for part in parts)
    if len(key) > MAX_LENGTH:
        raise ValueError(f"idempotency key longer than {MAX_LENGTH} characters: {key[:60]}…")
    return key


def top_up(method: str, reference: str) -> str:
    """Money received for a customer's prepaid account, by the source's own unique reference
    (bank entry reference, PSP payment id, our payment id for a collection)."""
    return _key("topup", method, reference)


def top_up_source(key: str) -> tuple[str, str]:
    """The (method or provider, reference) a :func:`top_up` key was built from.

    >>> top_up_source(top_up("bank_transfer", "2026-11-30:ref:42"))
    ('bank_transfer', '2026-11-30:ref:42')
    """
    kind, method, reference = [*key.split(":", 2), "", ""][:3]
    if kind != "topup":
        raise ValueError(f"not a top-up key: {key[:60]}")
    return method, reference


def invoice_issued(invoice_id: int) -> str:
    """The issuance of an invoice, which also settles what the prepaid balance covers then."""
    return _key("invoice", invoice_id, "issued")


def invoice_issued_sql(invoice_id_sql: str) -> str:
    """:func:`invoice_issued` as an SQL expression over an integer column, for set-based issuance
    (the same spelling: ``tests/ledger/test_keys.py`` evaluates both).

    >>> invoice_issued_sql("d.invoice_id")
    "'invoice:' || d.invoice_id || ':issued'"
    """
    return f"'invoice:' || {invoice_id_sql} || ':issued'"


def settled_at_issuance(invoice_id: int) -> str:
    """The settlement at issuance of invoices issued before it joined the issuance's own
    transaction (still read by the PDF of those invoices)."""
    return _key("invoice", invoice_id, "settled", "issuance")


def invoice_settled(invoice_id: int, *, trigger: str) -> str:
    """Part of an invoice paid from the prepaid balance, because of ``trigger``."""
    return _key("invoice", invoice_id, "settled", trigger)


def debt_settled(customer_id: int, *, trigger: str) -> str:
    """A debt outside any invoice (a reversal the balance could not cover) paid from the
    prepaid balance, because of ``trigger``."""
    return _key("debt", customer_id, "settled", trigger)


def credit_note_issued(credit_note_id: int) -> str:
    return _key("credit_note", credit_note_id, "issued")


def reversal(transaction_id: int) -> str:
    """The mirror image of a transaction (a refund, a chargeback, a SEPA return)."""
    return _key("reversal", transaction_id)


def refund(transaction_id: int, reference: str) -> str:
    """Part of a top-up given back, by the provider's refund (or dispute) reference: each
    partial refund once, however often the provider reports it."""
    return _key("refund", transaction_id, reference)


# Triggers: what made money available for settlements.


def after_top_up(transaction_id: int) -> str:
    return _key("topup", transaction_id)


def after_credit_note(credit_note_id: int) -> str:
    return _key("credit_note", credit_note_id)


def with_balance(last_entry_id: int) -> str:
    """The balance as it stands, named by its last entry: the same balance settles once."""
    return _key("balance", last_entry_id)
