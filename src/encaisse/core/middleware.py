# SPDX-License-Identifier: AGPL-3.0-or-later
"""Refuse a request body over the limit with 413 before anything reads it.

Django raises ``RequestDataTooBig`` only when a view or middleware reads the body (the CSRF check
does, for a form), and answers it with a 400 page: the client is told its request was malformed
when it was only too large (RFC 9110 §15.5.14). The declared ``Content-Length`` is known before the
body is read, so the refusal costs nothing. File uploads (multipart) are Django's own business:
their limit is per file (``FILE_UPLOAD_MAX_MEMORY_SIZE``), not this one. Under ``/api/`` the
answer gets the API's JSON error shape from ``api.errors.JsonErrorsMiddleware``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _


class RequestTooLargeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._too_large(request):
            return HttpResponse(
                _("The request body is too large."),
                status=413,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)

    @staticmethod
    def _too_large(request: HttpRequest) -> bool:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None or request.content_type == "multipart/form-data":
            return False
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return False  # Django reads such a body as empty
        return declared > limit
