# SPDX-License-Identifier: AGPL-3.0-or-later
"""Who did it: every money movement and staff action records an :class:`Actor`.

An actor is a staff user, a customer, a system job or an API key. It is stored denormalised
(kind, id, label) on the append-only rows it explains, so the audit trail stays readable even after
a user is renamed or an API key revoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActorKind(models.TextChoices):
    SYSTEM = "system", _("System job")
    STAFF = "staff", _("Staff user")
    CUSTOMER = "customer", _("Customer")
    API_KEY = "api_key", _("API key")


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    id: str
    label: str

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(ActorKind.SYSTEM, job, job)

    @classmethod
    def staff(cls, user: Any) -> Actor:
        return cls(ActorKind.STAFF, str(user.pk), user.get_username())

    @classmethod
    def api_key(cls, key: Any) -> Actor:
        return cls(ActorKind.API_KEY, str(key.pk), key.name)

    @classmethod
    def customer(cls, customer: Any) -> Actor:
        return cls(ActorKind.CUSTOMER, str(customer.pk), customer.number)

    def fields(self) -> dict[str, str]:
        """Column values for models that embed an actor (see :class:`ActorFields`)."""
        return {"actor_kind": self.kind, "actor_id": self.id, "actor_label": self.label[:150]}


class ActorFields(models.Model):
    actor_kind = models.CharField(_("actor kind"), max_length=16, choices=ActorKind.choices)
    actor_id = models.CharField(_("actor id"), max_length=64)
    actor_label = models.CharField(_("actor"), max_length=150)

    class Meta:
        abstract = True

    @property
    def actor(self) -> Actor:
        return Actor(ActorKind(self.actor_kind), self.actor_id, self.actor_label)
