# SPDX-License-Identifier: AGPL-3.0-or-later
"""``Authorization: Bearer enc_…`` on every operation, each needing one scope of the key.

A key belongs to the provider's platform, which acts for all the provider's customers: a key may
read and act on any customer, but only through the operations its scopes allow (``Scope``). A
missing, malformed, unknown, wrong, revoked or expired key gets the same 401 so the answer reveals
nothing about which keys exist; a valid key without the operation's scope gets a 403
(``forbidden_scope``) naming the scope it lacks.

Each operation declares its scope with ``auth=ApiKeyAuth(Scope.…)``. The API-wide default
(``ApiKeyAuth(None)``, in ``v1``) refuses every key, so an operation that forgets its scope is
closed rather than open to all, and ``tests/api/test_api_scopes.py`` walks every operation to fail
on it. :func:`document_scopes` writes each operation's scope into the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.operation import Operation
from ninja.security import HttpBearer

from encaisse.core.actors import Actor
from encaisse.core.exceptions import EncaisseError

from . import keys
from .models import ApiKey, Scope

# English on purpose: the OpenAPI document is written for developers, as are the docstrings.
SCOPE_DOCS = {
    Scope.READ: "read customers, balances, movements, invoices and PDFs (every GET)",
    Scope.CUSTOMERS: "create customers",
    Scope.CHARGES: "create charges",
    Scope.INVOICES: "issue a customer's pending charges as an invoice now",
    Scope.PAYMENTS: "record money received, crediting a prepaid account: the most sensitive",
}
SCOPE_EXTENSION = "x-encaisse-scope"
FORBIDDEN = 403


def _scheme_description() -> str:
    lines = "\n".join(f"* `{scope.value}`: {SCOPE_DOCS[scope]}" for scope in Scope)
    return (
        "An API key (`enc_…`, made by `encaisse apikey create --name … --scope …`). Each "
        "operation needs one scope of the key; a key without it gets 403 `forbidden_scope`, an "
        f"unknown, revoked or expired key gets 401. Scopes:\n\n{lines}"
    )


class ScopeMissing(EncaisseError):
    message = _(
        "This API key may not do this: the operation needs the “%(scope)s” scope (%(label)s). "
        "Use a key created with that scope."
    )
    code = "forbidden_scope"
    http_status = 403


class ScopeUndeclared(EncaisseError):
    message = _("This operation declares no API key scope, so no key may use it.")
    code = "forbidden_scope"
    http_status = 403


class ApiKeyAuth(HttpBearer):
    """The bearer key, accepted only if it holds ``scope`` (``None``: refuse every key)."""

    openapi_description = _scheme_description()

    def __init__(self, scope: Scope | None) -> None:
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = keys.authenticate(token.strip())
        if key is None:
            return None  # ninja answers 401
        if self.scope is None:
            raise ScopeUndeclared()
        if not key.has_scope(self.scope):
            raise ScopeMissing(scope=self.scope.value, label=self.scope.label)
        return key


def actor_of(request: HttpRequest) -> Actor:
    """The actor recorded on ledger transactions, charges and audit rows made by this request."""
    return Actor.api_key(request.auth)  # type: ignore[attr-defined]


def operations(api: NinjaAPI) -> Iterator[Operation]:
    """Every operation ``api`` serves, as bound to it (this binds the routers: add them first).

    ninja 1.7 clones each router's operations when it binds them to the API, so the bound copies,
    not the routers' own, are what requests run and the OpenAPI document describes.
    """
    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            yield from path_view.operations


def scopes_of(operation: Operation) -> list[Scope | None]:
    """The scopes an operation's authentication callbacks require (one expected)."""
    return [auth.scope for auth in operation.auth_callbacks if isinstance(auth, ApiKeyAuth)]


def document_scopes(api: NinjaAPI) -> None:
    """Say in each operation's OpenAPI description (and ``x-encaisse-scope``) which scope it needs,
    and document its 403 answer.

    Derived from the operations' own ``auth``, so the document cannot drift from what is enforced.
    """
    for operation in operations(api):
        scopes = [scope for scope in scopes_of(operation) if scope is not None]
        if len(scopes) != 1:
            continue  # refused at run time and by the test that walks the operations
        scope = scopes[0]
        note = f"**Scope:** `{scope.value}` ({SCOPE_DOCS[scope]})."
        description = (operation.description or "").strip()
        operation.description = f"{description}\n\n{note}" if description else note
        operation.openapi_extra = {
            **(operation.openapi_extra or {}),
            SCOPE_EXTENSION: scope.value,
            "responses": {
                **(operation.openapi_extra or {}).get("responses", {}),
                FORBIDDEN: _forbidden_response(scope),
            },
        }


def _forbidden_response(scope: Scope) -> dict:
    return {
        "description": f"The API key lacks the `{scope.value}` scope (`forbidden_scope`).",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }
