# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reads the API needs that the owning apps' selectors do not offer yet.

``search_customers`` belongs in ``customers.selectors``; it lives here until that module takes it
(its owner is asked to), and the API then imports it from there.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from encaisse.customers import numbers
from encaisse.customers.models import Customer


def search_customers(search: str = "") -> QuerySet[Customer]:
    """Customers by number, ordered; ``search`` matches part of the number, name or e-mail."""
    customers = Customer.objects.order_by("number")
    term = search.strip()
    if term:
        customers = customers.filter(
            Q(number__icontains=numbers.normalize(term))
            | Q(name__icontains=term)
            | Q(email__icontains=term)
        )
    return customers
