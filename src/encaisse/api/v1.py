# SPDX-License-Identifier: AGPL-3.0-or-later
"""Version 1 of the REST API used by the hosting platform, mounted at ``/api/v1/``.

Every operation requires an API key holding the operation's one scope
(``auth=ApiKeyAuth(Scope.…)`` on the operation; see ``auth``). The OpenAPI document is served at
``/api/v1/openapi.json``; ninja's interactive docs page is off because it loads Swagger UI from a
CDN unless ninja is an installed app (no third-party script is served from our pages).
"""

from __future__ import annotations

from ninja import NinjaAPI

from . import charges, customers, errors, invoices, payments
from .auth import ApiKeyAuth, document_scopes
from .responses import RENDERER

DESCRIPTION = """Prepaid accounts, charges, payments and invoices of the provider's customers.

* Authenticate with `Authorization: Bearer enc_…` (`encaisse apikey create --name … --scope …`).
  Each operation needs one scope of the key (see its description and the security scheme): a
  key without it gets 403 `forbidden_scope`; an unknown, revoked or expired key gets 401.
* Money, quantities and VAT rates are decimal **strings** (`"9.90"`); JSON numbers are refused.
* Every POST takes an `Idempotency-Key` header: a retry with the same key and body replays the
  first response, the same key with another body is refused (422), a concurrent duplicate gets 409.
* Text (bodies, paths, queries) refuses control characters U+0000–U+001F and U+007F (422; a
  payment's `reason` may hold tabs and line breaks); required text cannot be only spaces.
* Errors: `{"code": ..., "message": ...}` plus `errors` for fields that failed validation, for
  every status (413 for a body over 2.5 MB, 404 for an unknown path, 500 `server_error`).
"""

api = NinjaAPI(
    title="Encaisse API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    docs_url="/docs",  # served from local static files ("ninja" app): no CDN
    auth=ApiKeyAuth(None),  # each operation names its scope; one that forgets is refused to all
    renderer=RENDERER,
)
errors.install(api)
for module in (customers, charges, payments, invoices):
    api.add_router("", module.router)
document_scopes(api)
