# SPDX-License-Identifier: AGPL-3.0-or-later
"""Exception family of Encaisse: each error carries a default, translated message for the user.

Services raise these; views, API and commands turn them into a clear message and change nothing
(the service's transaction is rolled back).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class EncaisseError(Exception):
    """Base class; ``message`` is shown to the user, ``code`` is stable for API clients."""

    message: Any = _("The operation could not be completed.")
    code = "error"
    http_status = 422

    def __init__(self, message: Any = None, **params: Any) -> None:
        self.params = params
        if message is not None:
            self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        text = str(self.message)
        return text % self.params if self.params else text


class ValidationError(EncaisseError):
    code = "invalid"


class NotFound(EncaisseError):
    message = _("Not found.")
    code = "not_found"
    http_status = 404


class Conflict(EncaisseError):
    message = _("This operation conflicts with another one in progress.")
    code = "conflict"
    http_status = 409
