# SPDX-License-Identifier: AGPL-3.0-or-later
"""One error shape for the whole API: ``{"code": ..., "message": ...}`` (+ ``"errors"``).

``code`` is stable for programs, ``message`` is translated for people, ``errors`` lists the fields
a request failed schema validation on. Business errors are the services' own
:class:`~encaisse.core.exceptions.EncaisseError` (their ``http_status`` is the response status);
nothing here decides what is allowed.

Every answer under ``/api/`` has this shape in every environment, whatever failed: ninja's
handlers below cover what an operation raises (an unexpected exception is logged and answered
``server_error`` without a traceback, ``DEBUG`` or not), :func:`not_found` answers paths no
operation serves, and :class:`JsonErrorsMiddleware` rewrites what Django or ninja answer
outside any operation (405 for a wrong method, 400 or 500 from the request handler).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError

from encaisse.core.exceptions import Conflict, EncaisseError, NotFound

from . import field_errors


class IdempotencyKeyReused(EncaisseError):
    message = _(
        "This Idempotency-Key was already used for a different request. Send a new key with a "
        "new request."
    )
    code = "idempotency_key_reused"
    http_status = 422


class IdempotencyInProgress(Conflict):
    message = _(
        "A request with this Idempotency-Key is still being processed. Retry in a moment with "
        "the same key."
    )
    code = "idempotency_in_progress"


class PdfUnavailable(EncaisseError):
    message = _("The PDF of invoice %(number)s cannot be produced right now. Retry later.")
    code = "pdf_unavailable"
    http_status = 503


UNAUTHORIZED = _("A valid API key is required: send “Authorization: Bearer enc_…”.")
INVALID_REQUEST = _("The request is invalid: see “errors” for the fields to correct.")
# ninja raises HttpError(400) only when the body is not JSON; its message is not translated.
BAD_REQUEST = _("The request body is not valid JSON.")
TOO_LARGE = _("The request body is too large.")
SERVER_ERROR = _("An unexpected error occurred. It has been logged; retry later or contact us.")
METHOD_NOT_ALLOWED = _("This method is not allowed on this path.")
UNKNOWN_PATH = _("No API operation at this path: see /api/v1/openapi.json.")
HTTP_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "throttled",
    500: "server_error",
}
UNREADABLE = _("The request could not be read.")
FORBIDDEN = _("This request is not allowed.")
HTTP_MESSAGES = {
    400: UNREADABLE,
    403: FORBIDDEN,
    404: UNKNOWN_PATH,
    405: METHOD_NOT_ALLOWED,
    413: TOO_LARGE,
    500: SERVER_ERROR,
}
PREFIX = "/api/"
logger = logging.getLogger("encaisse.api")


def error_body(code: str, message: Any, errors: list[dict[str, Any]] | None = None) -> dict:
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if errors is not None:
        body["errors"] = errors
    return body


def business_error_body(exc: EncaisseError) -> dict:
    return error_body(exc.code, str(exc))


def _field_errors(exc: SchemaError) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "message": field_errors.message(error),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors
    ]


def install(api: NinjaAPI) -> None:
    """Register the handlers that turn exceptions into the one error shape."""

    def on_business_error(request: HttpRequest, exc: EncaisseError) -> HttpResponse:
        return api.create_response(request, business_error_body(exc), status=exc.http_status)

    def on_schema_error(request: HttpRequest, exc: SchemaError) -> HttpResponse:
        body = error_body("invalid_request", INVALID_REQUEST, _field_errors(exc))
        return api.create_response(request, body, status=422)

    def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = api.create_response(
            request, error_body("unauthorized", UNAUTHORIZED), status=401
        )
        response["WWW-Authenticate"] = 'Bearer realm="encaisse"'
        return response

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        status = exc.status_code
        message = BAD_REQUEST if status == 400 else exc.message
        body = error_body(HTTP_CODES.get(status, f"http_{status}"), message)
        return api.create_response(request, body, status=status)

    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, business_error_body(NotFound()), status=404)

    def on_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return api.create_response(request, error_body("too_large", TOO_LARGE), status=413)

    def on_django_refusal(request: HttpRequest, exc: Exception) -> HttpResponse:
        """What Django itself would answer 403 or 400 (not a server error)."""
        status = 403 if isinstance(exc, PermissionDenied) else 400
        return api.create_response(request, _status_body(status), status=status)

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        """Logged with its traceback for us; the client gets the shape and nothing internal."""
        logger.exception("API %s %s failed", request.method, request.path, exc_info=exc)
        body = error_body("server_error", SERVER_ERROR)
        return api.create_response(request, body, status=500)

    handlers: dict[type[Exception], Callable[[HttpRequest, Any], HttpResponse]] = {
        EncaisseError: on_business_error,
        SchemaError: on_schema_error,
        AuthenticationError: on_unauthenticated,
        HttpError: on_http_error,
        Http404: on_not_found,
        RequestDataTooBig: on_too_large,
        PermissionDenied: on_django_refusal,
        SuspiciousOperation: on_django_refusal,
        Exception: on_unexpected,
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, handler)


def _status_body(status: int) -> dict:
    return error_body(HTTP_CODES.get(status, f"http_{status}"), HTTP_MESSAGES.get(status, ""))


@csrf_exempt  # a POST to a wrong path must get the 404, not a CSRF 403 page
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any path under ``/api/`` that no operation serves (the last URL pattern of ``api.urls``)."""
    return JsonResponse(_status_body(404), status=404, json_dumps_params={"ensure_ascii": False})


class JsonErrorsMiddleware:
    """Give error answers under ``/api/`` the JSON shape when they were made outside ninja.

    ninja answers a wrong method with a plain-text 405, and Django answers a request it could not
    handle (an exception raised before or around the operation) with an HTML page; an API client
    must be able to read every error the same way. Answers already in JSON are left untouched.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        body = json.dumps(_status_body(response.status_code), ensure_ascii=False)
        shaped = HttpResponse(
            body, status=response.status_code, content_type="application/json; charset=utf-8"
        )
        for header in ("Allow", "WWW-Authenticate", "Retry-After", "Cache-Control", "Vary"):
            if header in response:
                shaped[header] = response[header]
        return shaped
