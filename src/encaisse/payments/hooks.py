# SPDX-License-Identifier: AGPL-3.0-or-later
"""What follows money received, plugged in by the layers above payments (``core.registry``).

``notifications`` registers the "payment received" e-mail here; payments may not import it.
:func:`top_up_recorded` calls every hook so that what it enqueues commits with the top-up
(``core.background``).
"""

from __future__ import annotations

from typing import ClassVar

from encaisse.core.background import enqueue_with_the_transaction
from encaisse.core.registry import Registry


class PaymentHook:
    """Contract of a follow-up of money received. ``identifier`` is required and unique."""

    identifier: ClassVar[str]

    def top_up_recorded(self, transaction_id: int) -> None:
        """A top-up of a prepaid account (journal transaction ``transaction_id``) was committed.

        Called in the top-up's transaction (or after its COMMIT with a task backend outside the
        database), once per top-up (a replayed top-up posts nothing and calls nothing). **Must
        only enqueue tasks**: never send nor call anything from here."""


hooks: Registry[PaymentHook] = Registry("payment hooks")


def top_up_recorded(transaction_id: int) -> None:
    def fire() -> None:
        for hook in hooks:
            hook.top_up_recorded(transaction_id)

    enqueue_with_the_transaction(fire)
