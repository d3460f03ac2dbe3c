# SPDX-License-Identifier: AGPL-3.0-or-later
"""Registers the back-office's model admins on the staff site.

Django's admin autodiscovery imports the ``admin`` module of every installed app; the model admins
all live in :mod:`encaisse.web.staff` (the top layer, which may import every app), so this module
is the one the autodiscovery finds, and importing each module registers its admins.
"""

from .staff import (
    api_keys,
    audit,
    customers,
    invoicing,
    ledger,
    logins,
    notifications,
    payments,
)

__all__ = [
    "api_keys",
    "audit",
    "customers",
    "invoicing",
    "ledger",
    "logins",
    "notifications",
    "payments",
]
