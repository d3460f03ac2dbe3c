# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reading customers."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from encaisse.core.exceptions import NotFound

from . import numbers
from .models import Customer


def get_by_number(number: str) -> Customer:
    try:
        return Customer.objects.get(number=numbers.normalize(number))
    except Customer.DoesNotExist as exc:
        raise NotFound(_("No customer %(number)s."), number=number) from exc
