# SPDX-License-Identifier: AGPL-3.0-or-later
"""One error shape for the whole API: ``{"code": ..., "message": ...}`` (+ ``"errors"``).

``code`` is stable for programs, ``message`` is translated for people, ``errors`` lists the fields
a request failed schema validation on. Business errors are the services' own
:class:`~encaisse.core.exceptions.EncaisseError` (their ``http_status`` is the response status);
nothing here decides what is allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError

from encaisse.core.exceptions import Conflict, EncaisseError, NotFound


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
HTTP_CODES = {400: "bad_request", 403: "forbidden", 429: "throttled"}


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
            "message": str(error.get("msg", "")),
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

    handlers: dict[type[Exception], Callable[[HttpRequest, Any], HttpResponse]] = {
        EncaisseError: on_business_error,
        SchemaError: on_schema_error,
        AuthenticationError: on_unauthenticated,
        HttpError: on_http_error,
        Http404: on_not_found,
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, handler)
