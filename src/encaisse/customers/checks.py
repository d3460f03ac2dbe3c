# SPDX-License-Identifier: AGPL-3.0-or-later
"""System check of the seller's legal identity, run by ``encaisse check --deploy``.

A deployment check (``deploy=True``) under Django's ``security`` tag, beside its HTTPS and cookie
checks: an example or empty IBAN on the transfer page sends customers' money elsewhere. It also
carries the ``seller`` tag, so ``encaisse check --deploy --tag seller`` runs it alone. Every
problem is its own Error naming the environment variable to set, so one run lists them all; the
settings module does not raise for them at import, which would stop at the first.

Outside production the example seller passes, so the check is clean for the demo too.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.checks import Warning as CheckWarning  # not the built-in Warning

from . import seller

TAG = "seller"
_HINT = "Set it in the environment: it is printed on every invoice and shown on the transfer page."
_LEGACY_ADDRESS = "ENCAISSE_SELLER_ADDRESS"


def seller_identity(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """customers.E001 for a missing variable, E002 for an invalid one, W001 for the old address."""
    _, problems = seller.validate(settings.ENCAISSE_SELLER, settings.ENCAISSE_SELLER_VARIABLES)
    messages: list[CheckMessage] = [
        Error(str(problem), hint=_HINT, id="customers.E001")
        if problem.missing
        else Error(str(problem), id="customers.E002")
        for problem in problems
    ]
    # The environment, not a setting: the variable is no longer read into the settings at all.
    if os.environ.get(_LEGACY_ADDRESS):
        parts = ", ".join(
            settings.ENCAISSE_SELLER_VARIABLES[key]
            for key in ("address_line1", "address_line2", "postal_code", "city", "country")
        )
        messages.append(
            CheckWarning(
                f"{_LEGACY_ADDRESS} is no longer read: the address is structured.",
                hint=f"Set {parts} instead, then remove {_LEGACY_ADDRESS}.",
                id="customers.W001",
            )
        )
    return messages
