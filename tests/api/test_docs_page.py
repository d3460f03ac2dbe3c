# SPDX-License-Identifier: AGPL-3.0-or-later
"""The API documentation page is served with local assets only (no CDN)."""


def test_docs_page_loads_swagger_from_our_own_static_files(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui-bundle.js" in page
    assert "cdn." not in page and "jsdelivr" not in page
