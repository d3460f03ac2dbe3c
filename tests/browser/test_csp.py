# SPDX-License-Identifier: AGPL-3.0-or-later
"""Under the Content-Security-Policy, no page breaks: chromium reports no violation (finding 6).

Every page is served with ``settings.SECURE_CSP`` (no inline script or style). A violation would be
something the policy blocks, so a part of the page that does not work: each test walks the pages
of the customer panel, the back-office or the API docs (Swagger UI, a third-party bundle) and
records every ``securitypolicyviolation`` event the browser fires, on each page and frame, from the
first byte (an init script, which the policy does not govern). None is expected.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.browser

#: Runs before the page's own scripts in every document: violations become console errors.
_REPORT = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || "inline"} `
    + `in ${e.documentURI} (${e.sourceFile || ""}:${e.lineNumber}) ${e.sample || ""}`);
});
"""


class Violations:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.seen: list[str] = []
        page.add_init_script(_REPORT)
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            self.seen.append(text)

    def visit(self, path: str, *, ready: str = "body") -> None:
        """Open ``path``, wait for ``ready`` and for the network to settle (late scripts)."""
        response = self.page.goto(path)
        assert response is not None and response.status < 400, (path, response and response.status)
        assert "default-src 'self'" in response.headers["content-security-policy"]
        self.page.locator(ready).first.wait_for()
        self.page.wait_for_load_state("networkidle")


@pytest.fixture
def watch() -> Iterator[Any]:
    made: list[Violations] = []

    def start(page: Any) -> Violations:
        made.append(Violations(page))
        return made[-1]

    yield start
    for violations in made:
        assert violations.seen == [], "\n".join(violations.seen)


@pytest.mark.parametrize("lang", ["fr"])
def test_the_watch_reports_an_inline_style_and_script(anonymous, lang):
    """The detector itself: what the policy blocks is seen (else "none" would prove nothing)."""
    violations = Violations(anonymous)
    violations.visit("/")

    anonymous.evaluate(
        """() => {
        const style = document.createElement("style");
        style.textContent = "body { color: red }";
        document.head.appendChild(style);
        const script = document.createElement("script");
        script.textContent = "window.ran = true";
        document.head.appendChild(script);
    }"""
    )
    anonymous.wait_for_timeout(300)

    assert anonymous.evaluate("window.ran") is None  # blocked, not run
    directives = " ".join(violations.seen)
    assert "style-src" in directives and "script-src" in directives, violations.seen


@pytest.mark.parametrize("lang", ["fr"])
def test_public_and_sign_in_pages(anonymous, watch, lang):
    violations = watch(anonymous)
    for path in ("/", "/panel/login/", "/panel/password-reset/"):
        violations.visit(path)


@pytest.mark.parametrize("lang", ["fr"])
def test_customer_panel_pages(panel, watch, lang):
    violations = watch(panel)
    for path in ("/panel/", "/panel/invoices/", "/panel/payment-methods/settings/"):
        violations.visit(path)
    violations.visit("/panel/payment-methods/?amount=49,90", ready="[data-testid=transfer-qr] svg")
    violations.visit("/panel/movements/?kind=top_up")
    violations.visit("/panel/invoices/")
    panel.locator("main table tbody tr a").first.click()
    panel.wait_for_url(re.compile(r"/panel/invoices/\d+/$"))
    panel.wait_for_load_state("networkidle")


@pytest.mark.parametrize("lang", ["fr"])
def test_back_office_pages(staff, watch, lang):
    violations = watch(staff)
    for path in (
        "/admin/",
        "/admin/customers/customer/",
        "/admin/customers/customer/add/",
        "/admin/invoicing/invoice/",
        "/admin/invoicing/billingrun/",
        "/admin/ledger/ledgertransaction/",
    ):
        violations.visit(path, ready="#content")
    violations.visit("/admin/customers/customer/", ready="#result_list")
    staff.locator("#result_list tbody th a").first.click()
    staff.wait_for_url(re.compile(r"/admin/customers/customer/\d+/change/(\?|$)"))
    staff.wait_for_load_state("networkidle")
    staff.locator("a[href$='/record-payment/']").click()
    staff.wait_for_url(re.compile(r"/record-payment/$"))
    staff.wait_for_load_state("networkidle")
    violations.visit("/admin/invoicing/invoice/", ready="#result_list")
    pdf = staff.locator("#result_list a[href$='/pdf/']").first.get_attribute("href")
    staff.locator("#result_list tbody th a").first.click()
    staff.wait_for_url(re.compile(r"/admin/invoicing/invoice/\d+/change/(\?|$)"))
    staff.wait_for_load_state("networkidle")
    # The PDF, shown inline: chromium's viewer (an <embed> in a page it makes up) still opens.
    # It once took the PDF's policy, so object-src 'none' blanked it (crbug.com/271452).
    staff.goto(pdf)
    for _ in range(50):
        if any(frame.url.startswith("chrome-extension://") for frame in staff.frames):
            break
        staff.wait_for_timeout(100)
    else:
        raise AssertionError(f"no PDF viewer in {[frame.url for frame in staff.frames]}")


@pytest.mark.parametrize("lang", ["en"])
def test_the_api_docs_page_renders_swagger_ui(anonymous, watch, lang):
    violations = watch(anonymous)
    violations.visit("/api/v1/docs", ready=".swagger-ui .info .title")
    operation = anonymous.locator(".opblock-summary").first
    operation.click()
    anonymous.locator(".opblock-body").first.wait_for()
    anonymous.wait_for_load_state("networkidle")
