# SPDX-License-Identifier: AGPL-3.0-or-later
"""Browser tests: Debian's chromium, driven by Playwright, against the demo served by gunicorn.

The server is a real one, started once per session, not pytest-django's ``live_server``: on SQLite
the ledger's immutability triggers forbid the flush that transactional tests end with, and a
production-like server (gunicorn, two workers, its own processes) is what we want to test anyway.

- a temporary data directory gets the demo (``encaisse demo --no-serve --customers 20
  --pdf-months 0``), the printed customer and staff logins, two more panel logins (a customer
  who owes money, for the low-balance warning; one whose password the reset tests change) and a
  TOTP device for the staff user (``encaisse totp enroll admin``; the secret is read from the
  printed otpauth URI);
- gunicorn serves it on a free port of 127.0.0.1 (allowed by pytest-socket's ``--allow-hosts``),
  its output (including the console e-mail backend's messages) goes to ``server.log``;
- chromium is ``/usr/bin/chromium`` (``ENCAISSE_CHROMIUM`` overrides it), launched once;
- sign-ins happen once per session and language, and each test gets a fresh browser context
  from the saved cookies. A TOTP code is accepted once per 30-second step: the staff user signs
  in once per session.

Screenshots go to ``docs/screenshots/`` with ``ENCAISSE_SCREENSHOTS=1`` (reduced to a 256-colour
palette), else to a temporary directory, so that a CI run leaves the tree clean.
"""

from __future__ import annotations

import base64
import email
import email.policy
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("ENCAISSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Two sync workers, as a small production would run; no control socket (gunicorn 27 puts one in
# ~/.gunicorn by default, which parallel runs would fight over).
GUNICORN = [sys.executable, "-m", "gunicorn", "encaisse.wsgi", "-w", "2", "--timeout", "120"]
GUNICORN += ["--no-control-socket"]
VIEWPORT = {"width": 1280, "height": 900}
LOCALES = {"fr": "fr-FR", "en": "en-GB"}
CUSTOMER_EMAIL, CUSTOMER_PASSWORD = "client@demo.example", "encaisse-client"
LATE_EMAIL, LATE_PASSWORD = "retard@demo.example", "encaisse-retard"
RESET_EMAIL, RESET_PASSWORD = "oubli@demo.example", "encaisse-oubli"
STAFF_USER, STAFF_PASSWORD = "admin", "encaisse-demo"
TIMEOUT_MS = 15_000

# Two more panel logins (the printed demo customer pays everything from its balance): one for a
# demo customer who owes money, one whose password the reset tests change. Run in ``encaisse
# shell`` against the test data directory.
_MORE_LOGINS = f"""
from encaisse.core.actors import Actor
from encaisse.customers.models import Customer
from encaisse.customers.services import create_panel_login
from encaisse.ledger.selectors import customer_balance
actor = Actor.system("browser-tests")
demo = Customer.objects.filter(external_id__startswith="demo:", logins__isnull=True)
late = next(c for c in demo.order_by("pk") if customer_balance(c).due > 0)
create_panel_login(late, "{LATE_EMAIL}", actor=actor, password="{LATE_PASSWORD}")
other = demo.exclude(pk=late.pk).order_by("pk").first()
create_panel_login(other, "{RESET_EMAIL}", actor=actor, password="{RESET_PASSWORD}")
main = Customer.objects.get(logins__user__username="{CUSTOMER_EMAIL}")
for who, c in (("main", main), ("late", late)):
    b = customer_balance(c)
    print(f"FIGURES {{who}} {{c.pk}} {{c.number}} {{b.prepaid}} {{b.due}}")
"""


@dataclass
class DemoServer:
    url: str
    data_dir: Path
    env: dict[str, str]
    log: Path
    totp_key: bytes
    #: "main" (the printed demo login) and "late" (owes money): pk, number, prepaid, due.
    figures: dict[str, dict[str, str]] = field(default_factory=dict)
    logins = {  # noqa: RUF012 - constants shared with the tests
        "customer": (CUSTOMER_EMAIL, CUSTOMER_PASSWORD),
        "late": (LATE_EMAIL, LATE_PASSWORD),
        "reset": (RESET_EMAIL, RESET_PASSWORD),
        "staff": (STAFF_USER, STAFF_PASSWORD),
    }

    def encaisse(self, *args: str, timeout: float = 300) -> str:
        """Run an ``encaisse`` command against the test data directory; its stdout."""
        done = subprocess.run(
            [sys.executable, "-m", "encaisse.cli", *args],
            env=self.env,
            cwd=self.data_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"encaisse {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def totp_code(self, *, steps_ahead: int = 0) -> str:
        from django_otp.oath import TOTP

        totp = TOTP(self.totp_key, step=30, t0=0, digits=6)
        totp.time = time.time() + 30 * steps_ahead
        return f"{totp.token():06d}"

    def mails(self) -> list[email.message.EmailMessage]:
        """Messages printed by the console e-mail backend (development default) in the log."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        blocks = re.findall(r"(Content-Type: .*?)\n-{79}", text, flags=re.S)
        return [email.message_from_string(block, policy=email.policy.default) for block in blocks]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz within 60 s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to gunicorn's process group (arbiter and workers), SIGKILL if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _otp_key(output: str) -> bytes:
    uri = re.search(r"otpauth://\S+", output)
    assert uri, f"no otpauth URI in:\n{output}"
    secret = parse_qs(urlparse(uri.group(0)).query)["secret"][0]
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def _server_env(data_dir: Path) -> dict[str, str]:
    """The test process's environment without any Encaisse, database or mail setting, plus ours.

    DATABASE_URL is dropped on purpose: the demo must never be seeded into a shared database.
    """
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ENCAISSE_", "DATABASE_URL", "EMAIL_", "SECRET_KEY", "DEBUG"))
    }
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "encaisse.settings",
        "ENCAISSE_DATA_DIR": str(data_dir),
        "ENCAISSE_ENV": "development",
        "ENCAISSE_STAFF_2FA": "1",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    data_dir = tmp_path_factory.mktemp("browser-demo")
    env = _server_env(data_dir)
    log = data_dir / "server.log"
    server = DemoServer(f"http://127.0.0.1:{_free_port()}", data_dir, env, log, b"")
    demo = server.encaisse("demo", "--no-serve", "--customers", "20", "--pdf-months", "0")
    assert f"{CUSTOMER_EMAIL} / {CUSTOMER_PASSWORD}" in demo, demo
    assert f"{STAFF_USER} / {STAFF_PASSWORD}" in demo, demo
    for line in server.encaisse("shell", "-c", _MORE_LOGINS).splitlines():
        if line.startswith("FIGURES "):
            who, *values = line.split()[1:]
            server.figures[who] = dict(zip(("pk", "number", "prepaid", "due"), values, strict=True))
    server.totp_key = _otp_key(server.encaisse("totp", "enroll", STAFF_USER, "--no-qr"))
    port = server.url.rsplit(":", 1)[1]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*GUNICORN, "-b", f"127.0.0.1:{port}"],
            env=env,
            cwd=data_dir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: teardown stops the workers too
        )
    try:
        _wait_healthy(server.url, process, log)
        yield server
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: scripts/test.sh installs Debian's chromium "
            "(apt-get install chromium), or set ENCAISSE_CHROMIUM."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("ENCAISSE_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def shoot(screenshot_dir: Path) -> Callable[[Any, str], Path]:
    """``shoot(page, "fr-dashboard")``: a full-page PNG of what the page shows now."""

    def take(page: Any, name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        if os.environ.get("ENCAISSE_SCREENSHOTS") == "1":
            _shrink(path)
        return path

    return take


def _shrink(path: Path) -> None:
    """A 256-colour palette: committed screenshots 2–3 times smaller, text still sharp."""
    try:
        from PIL import Image
    except ImportError:  # Pillow comes with WeasyPrint; without it the PNG stays as taken
        return
    with Image.open(path) as image:
        flat = image.convert("RGB").quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    flat.save(path, optimize=True)


def new_context(browser: Any, server: DemoServer, lang: str, **kwargs: Any) -> Any:
    context = browser.new_context(
        base_url=server.url,
        viewport=VIEWPORT,
        locale=LOCALES[lang],
        timezone_id="Europe/Paris",
        **kwargs,
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def sign_in_customer(page: Any, email_address: str, password: str) -> None:
    page.goto("/panel/login/")
    page.fill("#id_username", email_address)
    page.fill("#id_password", password)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/panel/")


def switch_language(page: Any, lang: str) -> None:
    """The header's language button (a POST to /i18n/setlang/ that comes back to the page)."""
    label = {"en": "English", "fr": "Français"}[lang]
    with page.expect_navigation():
        page.locator("header form button[name=language]", has_text=label).click()
    assert page.locator("html").get_attribute("lang") == lang


@pytest.fixture(scope="session")
def _signed_in_states() -> dict[tuple[str, str], Path]:
    """Saved cookies of a signed-in session per (login, language), made when first needed."""
    return {}


def _state(
    states: dict[tuple[str, str], Path],
    browser: Any,
    server: DemoServer,
    who: str,
    lang: str,
) -> Path:
    if (who, lang) in states:
        return states[(who, lang)]
    context = new_context(browser, server, lang)
    page = context.new_page()
    if who == "staff":
        staff_sign_in(page, server)
        context.add_cookies([{"name": "django_language", "value": lang, "url": server.url}])
    else:
        sign_in_customer(page, *server.logins[who])
        if page.locator("html").get_attribute("lang") != lang:
            switch_language(page, lang)
    path = server.data_dir / f"state-{who}-{lang}.json"
    context.storage_state(path=str(path))
    context.close()
    states[(who, lang)] = path
    return path


def staff_sign_in(page: Any, server: DemoServer) -> None:
    """User name, password and the app's current code.

    Retried after a pause: a wrong code typed earlier in the session (the test of that error)
    makes django-otp refuse any code for 2^(failures - 1) seconds.
    """
    for pause in (2, 4, 8):
        page.goto("/admin/login/?next=/admin/")
        page.fill("#id_username", STAFF_USER)
        page.fill("#id_password", STAFF_PASSWORD)
        page.fill("#id_otp_token", server.totp_code())
        page.locator("input[type=submit]").click()
        page.wait_for_load_state()
        if urlparse(page.url).path == "/admin/":
            return
        time.sleep(pause)
    raise AssertionError(f"staff sign-in failed: {page.locator('.errornote').all_inner_texts()}")


@pytest.fixture(params=["fr", "en"])
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _page(browser: Any, server: DemoServer, lang: str, state: Path) -> Iterator[Any]:
    context = new_context(browser, server, lang, storage_state=str(state))
    page = context.new_page()
    failures: list[str] = []
    page.on(
        "response",
        lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 500 else None,
    )
    try:
        yield page
    finally:
        context.close()
    assert not failures, f"server errors: {failures} (see {server.log})"


@pytest.fixture
def panel(
    browser: Any, demo_server: DemoServer, lang: str, _signed_in_states: Any
) -> Iterator[Any]:
    """A page signed in as the demo customer, in ``lang``."""
    state = _state(_signed_in_states, browser, demo_server, "customer", lang)
    yield from _page(browser, demo_server, lang, state)


@pytest.fixture
def late_panel(
    browser: Any, demo_server: DemoServer, lang: str, _signed_in_states: Any
) -> Iterator[Any]:
    """A page signed in as the demo customer who owes money, in ``lang``."""
    state = _state(_signed_in_states, browser, demo_server, "late", lang)
    yield from _page(browser, demo_server, lang, state)


@pytest.fixture
def staff(
    browser: Any, demo_server: DemoServer, lang: str, _signed_in_states: Any
) -> Iterator[Any]:
    """A back-office page signed in as the demo's staff user (password + TOTP code), in ``lang``.

    One sign-in per session (a code is accepted once per step); the language is the
    ``django_language`` cookie, as /i18n/setlang/ would set it.
    """
    state = _state(_signed_in_states, browser, demo_server, "staff", "fr")
    context_lang = _state_with_language(state, lang)
    yield from _page(browser, demo_server, lang, context_lang)


def _state_with_language(state: Path, lang: str) -> Path:
    import json

    data = json.loads(state.read_text())
    for cookie in data["cookies"]:
        if cookie["name"] == "django_language":
            cookie["value"] = lang
    target = state.with_name(f"{state.stem}-as-{lang}.json")
    target.write_text(json.dumps(data))
    return target


@pytest.fixture
def anonymous(browser: Any, demo_server: DemoServer, lang: str) -> Iterator[Any]:
    """A page of a fresh browser whose language is ``lang`` (Accept-Language and cookie)."""
    context = new_context(browser, demo_server, lang)
    context.add_cookies([{"name": "django_language", "value": lang, "url": demo_server.url}])
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


# --- What the pages say, per language -------------------------------------------------------------
# The French is the intended wording of the panel (its catalog is written alongside these tests).
TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "dashboard": "Tableau de bord",
        "invoices": "Factures",
        "payment_methods": "Moyens de paiement",
        "settings": "Paramètres",
        "movements": "Mouvements",
        "no_cheques": "Les chèques ne sont pas acceptés.",
        "paid": "Payée",
        "siret_error": "n'est pas un numéro SIRET valide",
        "vat_error": "n'est pas un numéro de TVA intracommunautaire valide",
        "postal_error": "n'est pas un code postal valide",
        "amount_error": "montant",
        "switch_to": "English",
    },
    "en": {
        "dashboard": "Dashboard",
        "invoices": "Invoices",
        "payment_methods": "Payment methods",
        "settings": "Settings",
        "movements": "Account history",
        "no_cheques": "Cheques are not accepted.",
        "paid": "Paid",
        "siret_error": "is not a valid SIRET number",
        "vat_error": "is not a valid EU VAT number",
        "postal_error": "is not a valid postal code",
        "amount_error": "Enter an amount in euros with at most two decimals, such as 49.90.",
        "switch_to": "Français",
    },
}


@pytest.fixture
def texts(lang: str) -> dict[str, str]:
    return TEXTS[lang]


def money(amount: str, lang: str) -> str:
    """An amount as the panel writes it: "1 234,50 €" in French, "€1,234.50" in English."""
    from decimal import Decimal

    value = Decimal(amount)
    sign, digits = ("-" if value < 0 else ""), f"{abs(value):,.2f}"
    if lang == "fr":
        return f"{sign}{digits.replace(',', ' ').replace('.', ',')} €"
    return f"{sign}€{digits}"


def plain(text: str) -> str:
    """Text with the no-break spaces Babel writes (U+00A0, U+202F) as plain spaces."""
    return re.sub(r"[\u00a0\u202f]", " ", text)


@pytest.fixture
def fmt(lang: str) -> Callable[[str], str]:
    """``fmt("221.04")``: the amount as the page in ``lang`` shows it (no-break spaces plain)."""
    return lambda amount: money(amount, lang)


@pytest.fixture
def text_of() -> Callable[[Any], str]:
    """``text_of(locator)``: its visible text, no-break spaces as plain spaces."""
    return lambda locator: plain(locator.inner_text())
