# SPDX-License-Identifier: AGPL-3.0-or-later
"""The webhook endpoint of every payment provider: ``POST /payments/<provider>/events/``.

Parse, store, answer (decisions §5): the provider verifies the signature over the raw body
(``PaymentProvider.parse_event``); a forged or unreadable event is refused with a 400 and
nothing is stored; a genuine one is stored once per (provider, event id) in its own transaction
(``payments.events.receive_event``), its handling is enqueued, and the provider gets its 2xx at
once. A redelivered event finds its row and changes nothing; an event whose handling failed is
handled again by the periodic pass. The body is the provider's, not the browser's: no session,
no CSRF token (the signature authenticates it).
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import events, tasks
from .exceptions import InvalidEvent
from .models import EventStatus

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def receive(request: HttpRequest, provider: str) -> HttpResponse:
    try:
        row = events.receive_event(provider, request.body, request.headers)
    except LookupError:
        return JsonResponse({"error": "unknown_provider"}, status=404)
    except InvalidEvent as error:  # forged ones too
        logger.warning("payment event refused (%s): %s", provider, error.code)
        return JsonResponse({"error": error.code, "message": str(error)}, status=400)
    if row.status == EventStatus.RECEIVED:
        tasks.handle_inbound_event.enqueue(row.pk)
    return JsonResponse({"received": row.event_id})
