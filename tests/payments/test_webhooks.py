# SPDX-License-Identifier: AGPL-3.0-or-later
"""The webhook endpoint: only POST, only for a configured provider (the contract suite posts
genuine and forged events to it for every provider)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from encaisse.payments.models import InboundEvent

pytestmark = pytest.mark.django_db


def test_an_unknown_provider_is_a_404_and_nothing_is_stored(client, fake):
    answer = client.post(
        reverse("payments:events", args=["nobody"]), data=b"{}", content_type="application/json"
    )
    assert answer.status_code == 404
    assert not InboundEvent.objects.exists()


def test_only_post_is_accepted(client, fake):
    assert client.get(reverse("payments:events", args=["fake"])).status_code == 405
