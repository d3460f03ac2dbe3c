# SPDX-License-Identifier: AGPL-3.0-or-later
"""Authorization: every customer-facing URL is enumerated from the URLconf, none is forgotten.

Customer A asking for any of customer B's objects gets a 404; anonymous visitors are sent to the
sign-in page; a staff account gets no customer panel. A new panel URL with an object id must get a
case in ``OBJECT_ARGS``, or :func:`test_every_panel_url_is_covered` fails.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.urls import URLPattern, get_resolver, reverse

from encaisse.web.panel import urls as panel_urls

#: Public pages of the panel (signing in, resetting a password): no customer needed.
PUBLIC = {"login", "logout", "password_reset", "password_reset_done", "password_reset_confirm",
          "password_reset_complete"}  # fmt: skip
#: For each URL taking an object, how to build it from a customer's books.
OBJECT_ARGS = {
    "invoice": lambda books: {"pk": books.invoice.pk},
    "invoice_pdf": lambda books: {"pk": books.invoice.pk},
}


def panel_names() -> list[str]:
    return [p.name for p in panel_urls.urlpatterns if isinstance(p, URLPattern) and p.name]


def customer_urls(books) -> list[str]:
    urls = []
    for name in panel_names():
        if name in PUBLIC:
            continue
        kwargs = OBJECT_ARGS[name](books) if name in OBJECT_ARGS else {}
        urls.append(reverse(f"panel:{name}", kwargs=kwargs))
    return urls


def test_every_panel_url_is_covered():
    """A URL with parameters that is neither public nor in OBJECT_ARGS would escape the tests."""
    resolver = get_resolver()
    for pattern in panel_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        has_params = bool(pattern.pattern.converters)
        if has_params and pattern.name not in PUBLIC:
            assert pattern.name in OBJECT_ARGS, f"add {pattern.name} to OBJECT_ARGS"
    assert resolver.resolve("/panel/").url_name == "dashboard"


def test_anonymous_visitors_are_sent_to_sign_in(client, alice):
    for url in customer_urls(alice):
        response = client.get(url)
        assert response.status_code == 302, url
        target = urlparse(response["Location"])
        assert target.path == reverse("panel:login"), url


def test_customer_a_gets_404_on_every_object_of_customer_b(client, alice_and_bob):
    alice, bob = alice_and_bob
    client.force_login(alice.user)
    bob_object_urls = [
        reverse(f"panel:{name}", kwargs=build(bob)) for name, build in OBJECT_ARGS.items()
    ]
    assert bob_object_urls
    for url in bob_object_urls:
        assert client.get(url).status_code == 404, url
    # ... while the same URLs built from her own books answer.
    for name, build in OBJECT_ARGS.items():
        assert client.get(reverse(f"panel:{name}", kwargs=build(alice))).status_code == 200


def test_listings_show_only_the_customers_own_objects(client, alice_and_bob):
    alice, bob = alice_and_bob
    client.force_login(alice.user)
    for url in customer_urls(alice):
        if url.endswith("/pdf/"):
            continue  # the PDF is built from Alice's own invoice row (checked by the 404 test)
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode()
        assert bob.customer.number not in text, url
        assert bob.invoice.number not in text, url
        assert bob.customer.name not in text, url


def test_a_staff_account_has_no_customer_panel(client, alice, admin_user):
    client.force_login(admin_user)
    for url in customer_urls(alice):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("method", ["post"])
def test_writes_need_the_owner_too(client, alice_and_bob, method):
    """The only panel write (billing settings) changes the signed-in customer, whatever is sent."""
    alice, bob = alice_and_bob
    client.force_login(alice.user)
    response = client.post(
        reverse("panel:billing_settings"),
        {"name": "Hijack", "email": "x@example.org", "address_line1": "1 rue",
         "postal_code": "75001", "city": "Paris", "country": "FR", "language": "fr",
         "siret": "73282932000074", "customer": bob.customer.pk, "pk": bob.customer.pk},
    )  # fmt: skip
    assert response.status_code == 302
    bob.customer.refresh_from_db()
    alice.customer.refresh_from_db()
    assert bob.customer.name == "Bob Services"
    assert alice.customer.name == "Hijack"
