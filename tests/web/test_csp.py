# SPDX-License-Identifier: AGPL-3.0-or-later
"""Every page carries the Content-Security-Policy, and no template of ours needs it relaxed.

The browser test (tests/browser/test_csp.py) proves the pages still work under the policy; these
check the header on each kind of page and keep inline code out of our templates, which the policy
would block (the invoice PDF's template is for WeasyPrint, not a browser, and e-mails are no pages).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import encaisse.web

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
TEMPLATES = Path(encaisse.web.__file__).parent / "templates"
#: What the policy blocks in a page: inline scripts and styles, style attributes, event handlers.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>"
    r"|<style\b|\sstyle=|\son[a-z]+=|javascript:",
    re.IGNORECASE,
)


@pytest.mark.parametrize(
    "path", ["/", "/panel/login/", "/panel/password-reset/", "/admin/login/", "/api/v1/docs"]
)
def test_public_pages_carry_the_policy(client, db, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == POLICY


def test_signed_in_pages_carry_the_policy(admin_client):
    response = admin_client.get("/admin/")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == POLICY


def test_our_templates_have_no_inline_script_or_style():
    pages = [p for p in TEMPLATES.rglob("*.html") if "email" not in p.parts]
    assert len(pages) > 10

    offending = {
        str(page.relative_to(TEMPLATES)): INLINE.findall(page.read_text(encoding="utf-8"))
        for page in pages
    }

    assert {page: found for page, found in offending.items() if found} == {}


def test_the_scan_finds_inline_code():
    found = INLINE.findall(
        '<script>x()</script><style>a{}</style><p style="color:red" onclick="x()">'
        '<script src="/static/a.js"></script><script type="application/json">{}</script>'
    )
    assert found == ["<script>", "<style", " style=", " onclick="]
