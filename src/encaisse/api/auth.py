# SPDX-License-Identifier: AGPL-3.0-or-later
"""``Authorization: Bearer enc_…`` on every operation; the key is the actor of what it does.

A key belongs to the provider's platform, which acts for all the provider's customers: a valid key
may read and act on any customer. A missing, malformed, unknown, wrong or revoked key gets the same
401 so the answer reveals nothing about which keys exist.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from encaisse.core.actors import Actor

from . import keys
from .models import ApiKey


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return keys.authenticate(token.strip())


def actor_of(request: HttpRequest) -> Actor:
    """The actor recorded on ledger transactions, charges and audit rows made by this request."""
    return Actor.api_key(request.auth)  # type: ignore[attr-defined]
