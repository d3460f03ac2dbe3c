# SPDX-License-Identifier: AGPL-3.0-or-later
"""Issue 12, finding 9: a body over the limit gets 413 everywhere, not a 400 or 500 page."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

BIG = "x" * 4096


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_form_post_over_the_limit_gets_413(client):
    response = client.post(
        reverse("panel:login"), BIG, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_an_api_post_over_the_limit_gets_413_in_the_json_shape(client):
    response = client.post("/api/v1/charges", f'{{"x": "{BIG}"}}', content_type="application/json")
    assert response.status_code == 413
    body = response.json()
    assert body["code"] and body["message"]


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_body_within_the_limit_goes_through(client):
    response = client.post(
        reverse("panel:login"), "username=a", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code != 413
