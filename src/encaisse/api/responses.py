# SPDX-License-Identifier: AGPL-3.0-or-later
"""One JSON rendering for every API response, first answers and idempotent replays alike.

Keys are sorted: a replayed body is then byte-for-byte the first one even though PostgreSQL's
``jsonb`` does not keep key order, and responses do not depend on the database engine. Money is
rendered as decimal strings by the schemas (``schemas.Money``), never as JSON numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Schema
from ninja.renderers import JSONRenderer

REPLAY_HEADER = "Idempotent-Replayed"


class SortedJSONRenderer(JSONRenderer):
    json_dumps_params = {"sort_keys": True, "ensure_ascii": False}  # noqa: RUF012


RENDERER = SortedJSONRenderer()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an operation answered: the HTTP status and the JSON body (already JSON-native)."""

    status: int
    body: Any
    replayed: bool = False


def to_json(schema: type[Schema], obj: Any) -> Any:
    """Serialise ``obj`` through ``schema`` exactly as a GET would render it (storable as JSON)."""
    data = schema.from_orm(obj).model_dump()
    return json.loads(RENDERER.render(None, data, response_status=200))  # type: ignore[arg-type]


def respond(request: HttpRequest, outcome: Outcome) -> HttpResponse:
    response = HttpResponse(
        RENDERER.render(request, outcome.body, response_status=outcome.status),
        status=outcome.status,
        content_type=f"{RENDERER.media_type}; charset=utf-8",
    )
    if outcome.replayed:
        response[REPLAY_HEADER] = "true"
    return response
