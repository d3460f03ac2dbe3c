# SPDX-License-Identifier: AGPL-3.0-or-later
"""Version 1 of the REST API used by the hosting platform, mounted at ``/api/v1/``.

Every operation requires an API key (``auth.ApiKeyAuth``). The OpenAPI document is served at
``/api/v1/openapi.json``; ninja's interactive docs page is off because it loads Swagger UI from a
CDN unless ninja is an installed app (no third-party script is served from our pages).
"""

from __future__ import annotations

from ninja import NinjaAPI

from . import charges, customers, errors, invoices, payments
from .auth import ApiKeyAuth
from .responses import RENDERER

DESCRIPTION = """Prepaid accounts, charges, payments and invoices of the provider's customers.

* Authenticate with `Authorization: Bearer enc_…` (`encaisse apikey create --name …`).
* Money, quantities and VAT rates are decimal **strings** (`"9.90"`); JSON numbers are refused.
* Every POST takes an `Idempotency-Key` header: a retry with the same key and body replays the
  first response, the same key with another body is refused (422), a concurrent duplicate gets 409.
* Errors: `{"code": ..., "message": ...}` plus `errors` for fields that failed validation.
"""

api = NinjaAPI(
    title="Encaisse API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    docs_url="/docs",  # served from local static files ("ninja" app): no CDN
    auth=ApiKeyAuth(),
    renderer=RENDERER,
)
errors.install(api)
for module in (customers, charges, payments, invoices):
    api.add_router("", module.router)
