# SPDX-License-Identifier: AGPL-3.0-or-later
"""Template context of every page: the panel's customer (if any) and the provider's name."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from encaisse.customers.seller import current_seller

from .links import paths


def panel(request: HttpRequest) -> dict[str, Any]:
    return {
        "panel_paths": paths(),
        "customer": getattr(request, "customer", None),
        "seller_name": current_seller().name,
    }
