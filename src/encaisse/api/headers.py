# SPDX-License-Identifier: AGPL-3.0-or-later
"""``Cache-Control: no-store`` on every answer under ``/api/``.

API answers carry balances, invoices, customers' identities and their PDFs: no shared proxy nor
the client's disk cache may keep a copy (OWASP REST Security Cheat Sheet, "Security headers").
A middleware rather than a ninja hook, so that it also marks what no operation answered: errors
made by Django or other middleware, unknown paths, the OpenAPI document and the docs page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .errors import PREFIX


class NoStoreMiddleware:
    """Replace any ``Cache-Control`` of an API answer by ``no-store``, whatever its status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(PREFIX):
            response["Cache-Control"] = "no-store"
        return response
