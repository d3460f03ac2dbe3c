# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reads of payments for the pages above (panel, back-office)."""

from __future__ import annotations

from . import providers
from .models import PaymentMethod


def method_label(method: str) -> str:
    """How money arrived, in the reader's language: a method recorded by hand
    (:class:`PaymentMethod`) or a provider's name; the identifier itself when neither is known
    any more (a provider since removed from the settings).

    The ``method`` of a top-up's key, ``topup:<method>:<reference>``, is one or the other."""
    if method in PaymentMethod.values:
        return str(PaymentMethod(method).label)
    if method in providers.registry:
        return str(providers.get(method).verbose_name)
    return method
