# SPDX-License-Identifier: AGPL-3.0-or-later
"""The panel's URLs, reversed once per process instead of a dozen times per page.

``reverse()`` costs about 0.1 ms; a page of invoices linked each row twice. URLs are a pure
function of the URLconf and the script prefix, so memoising them keeps no state of any request.
"""

from __future__ import annotations

from functools import cache

from django.urls import get_script_prefix, reverse

_PAGES = ("dashboard", "invoices", "payment_methods", "billing_settings", "movements",
          "movements_csv", "login", "logout", "password_reset")  # fmt: skip
_SENTINEL = 987654321


@cache
def _paths(prefix: str) -> dict[str, str]:
    paths = {name: reverse(f"panel:{name}") for name in _PAGES}
    paths["set_language"] = reverse("set_language")
    return paths


@cache
def _object_path(prefix: str, name: str) -> tuple[str, str]:
    before, after = reverse(f"panel:{name}", kwargs={"pk": _SENTINEL}).split(str(_SENTINEL))
    return before, after


def paths() -> dict[str, str]:
    return _paths(get_script_prefix())


def object_url(name: str, pk: int) -> str:
    """``reverse(f"panel:{name}", kwargs={"pk": pk})``, memoised."""
    before, after = _object_path(get_script_prefix(), name)
    return f"{before}{int(pk)}{after}"
