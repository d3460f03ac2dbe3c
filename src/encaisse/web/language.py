# SPDX-License-Identifier: AGPL-3.0-or-later
"""The language cookie, set as Django's own ``set_language`` view sets it.

The panel sets it by hand when the customer's preferred language is known (at sign-in, after a
change in the billing settings). Every attribute comes from the ``LANGUAGE_COOKIE_*`` settings, so
the cookie is ``Secure`` in production and ``HttpOnly`` like the one ``/i18n/setlang/`` sets.
"""

from __future__ import annotations

from typing import Literal, cast

from django.conf import settings
from django.http import HttpResponse

SameSite = Literal["Lax", "Strict", "None", False] | None


def set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=cast(SameSite, settings.LANGUAGE_COOKIE_SAMESITE),  # the stubs say only "str"
    )
