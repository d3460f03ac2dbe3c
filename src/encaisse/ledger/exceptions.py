# SPDX-License-Identifier: AGPL-3.0-or-later
from django.utils.translation import gettext_lazy as _

from encaisse.core.exceptions import Conflict, EncaisseError


class LedgerError(EncaisseError):
    code = "ledger_error"


class UnbalancedTransaction(LedgerError):
    message = _("The entries of a transaction must sum to zero in each currency.")
    code = "unbalanced"


class InsufficientFunds(LedgerError):
    message = _("The balance of %(account)s is insufficient for this debit.")
    code = "insufficient_funds"


class BalanceLimitExceeded(LedgerError):
    message = _(
        "This movement would take the customer's balance above %(maximum)s, the most an account "
        "may hold. Refund or settle part of it first."
    )
    code = "balance_limit"
    http_status = 422


class IdempotencyConflict(Conflict):
    message = _("The key %(key)s was already used for a different movement.")
    code = "idempotency_conflict"
