# SPDX-License-Identifier: AGPL-3.0-or-later
"""Who is asking: the panel's one door to a customer's data.

:func:`customer_view` lets only signed-in panel users in (anonymous users go to the sign-in page)
and hands the view the customer the user belongs to. Views never take a customer id from the URL:
they look objects up *within* ``request.customer``, so customer A asking for customer B's invoice
gets a 404 without any per-view check to forget.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from encaisse.customers.models import Customer, CustomerLogin

View = Callable[..., HttpResponseBase]


class PanelRequest(HttpRequest):
    customer: Customer


def customer_of(request: HttpRequest) -> Customer | None:
    """The customer the signed-in user may see, or None (anonymous, staff, or no panel login)."""
    user = request.user
    if not user.is_authenticated or not user.is_active:
        return None
    try:
        # Loaded with the user by PanelModelBackend (no query); a query otherwise.
        login: CustomerLogin = user.customer_login
    except CustomerLogin.DoesNotExist:
        return None
    return login.customer


def customer_view(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        customer = customer_of(request)
        if customer is None:
            # A staff or deactivated account: signed in, but not to a customer panel.
            raise PermissionDenied
        request.customer = customer  # type: ignore[attr-defined]
        response = view(request, *args, **kwargs)
        response.headers.setdefault("Cache-Control", "private, no-store")
        return response

    return wrapper
