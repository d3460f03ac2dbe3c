# SPDX-License-Identifier: AGPL-3.0-or-later
"""Django's model backend, loading a signed-in user together with its panel login and customer.

Every panel request needs the user *and* the customer it may see; one query instead of two on
each request (the panel's hot path, see docs/benchmarks.md). Authentication itself is unchanged.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class PanelModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("customer_login__customer").get(
                pk=user_id
            )
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
