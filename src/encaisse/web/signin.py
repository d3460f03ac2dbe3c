# SPDX-License-Identifier: AGPL-3.0-or-later
"""The sign-in form of the panel and of the back-office: throttled, with one generic refusal.

:class:`ThrottledAuthenticationForm` replaces ``AuthenticationForm.clean``: it counts the attempt
(:func:`encaisse.web.throttle.admit_sign_in`) *before* the password is checked, then checks it,
then the subclass's own conditions (:meth:`~AuthenticationForm.confirm_login_allowed`: a staff
account, a customer login, the second factor). Whatever fails after the count, the answer is the
same ``invalid_login`` error, so the answer tells an attacker nothing: neither whether the login
exists, nor whether the password was right (a right password with a wrong second-factor code, or
a staff password typed in the panel, looks like a wrong password). The only other answer, "too
many attempts, wait N minutes", is given before the password is looked at, so the right password
gets it too.
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_variables

from . import throttle

logger = logging.getLogger(__name__)


def throttled_error(exc: throttle.Throttled) -> forms.ValidationError:
    minutes = exc.minutes_left()
    message = ngettext(
        "Too many sign-in attempts. For your security, wait %(minutes)s minute and try again.",
        "Too many sign-in attempts. For your security, wait %(minutes)s minutes and try again.",
        minutes,
    )
    return forms.ValidationError(message, code="throttled", params={"minutes": minutes})


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's authentication form, counted before the password, with one refusal message."""

    def has_every_credential(self) -> bool:
        """Whether the form holds all it needs beside login and password (e.g. a code): if not,
        the password is not checked (a field error says what is missing), so the answer cannot
        depend on it, and nothing is counted."""
        return True

    @sensitive_variables("password")
    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password or not self.has_every_credential():
            return self.cleaned_data
        try:
            throttle.admit_sign_in(username, self.request)
        except throttle.Throttled as exc:
            logger.warning("Sign-in throttled (%s): %r", exc.limit.scope, username)
            raise throttled_error(exc) from None
        self.user_cache = authenticate(self.request, username=username, password=password)
        if self.user_cache is None:
            raise self.get_invalid_login_error()
        try:
            self.confirm_login_allowed(self.user_cache)
        except forms.ValidationError as exc:
            # The password was right: say nothing more than for a wrong one (log it for staff).
            logger.info("Sign-in refused after the password (%s): %r", exc.code, username)
            self.user_cache = None
            raise self.get_invalid_login_error() from None
        throttle.signed_in(username, self.request)
        return self.cleaned_data
