# SPDX-License-Identifier: AGPL-3.0-or-later
"""Writing the audit log: one call per staff or system action, inside the action's transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from .actors import Actor
from .models import AuditLog


def record(
    action: str,
    *,
    actor: Actor,
    obj: models.Model | None = None,
    reason: str = "",
    **payload: Any,
) -> AuditLog:
    """Record ``action`` (a dotted name such as ``encaisse.billing_run.started``)."""
    return AuditLog.objects.create(
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        reason=reason,
        payload=payload,
        **actor.fields(),
    )
