# SPDX-License-Identifier: AGPL-3.0-or-later
"""The customer panel in a browser, in French and in English: every page, its figures, its forms.

Each test gets a fresh browser context signed in as the demo customer (``panel``) or as the demo
customer who owes money (``late_panel``), in the language of the ``lang`` parameter, and saves a
full-page screenshot of what it checked (``docs/screenshots/<lang>-<page>.png``).
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NAV_ORDER = ("dashboard", "invoices", "payment_methods", "settings", "movements")


def test_sign_in_page_refuses_a_wrong_password(anonymous, lang, text_of, shoot):
    anonymous.goto("/panel/")
    assert "/panel/login/" in anonymous.url  # anonymous visitors are sent to the sign-in page
    assert anonymous.locator("html").get_attribute("lang") == lang
    shoot(anonymous, f"{lang}-login")

    anonymous.fill("#id_username", "personne@demo.example")
    anonymous.fill("#id_password", "not-the-password")
    anonymous.locator("main button[type=submit]").click()

    error = anonymous.locator("main .notice.bad[role=alert]")
    assert error.is_visible()
    if lang == "en":
        assert text_of(error) == "Wrong e-mail or password."
    else:
        assert "mot de passe" in text_of(error)
    assert "/panel/login/" in anonymous.url


def test_dashboard_shows_balance_due_days_left_chart_and_last_movements(
    panel, demo_server, lang, texts, fmt, text_of, shoot
):
    main = demo_server.figures["main"]
    panel.goto("/panel/")
    shoot(panel, f"{lang}-dashboard")

    assert text_of(panel.locator("h1")) == texts["dashboard"]
    nav = [text_of(link) for link in panel.locator("nav.main a").all()]
    for key, label in zip(NAV_ORDER, nav, strict=True):
        assert texts[key] in label, (key, nav)
    assert text_of(panel.get_by_test_id("balance")) == fmt(main["prepaid"])
    assert text_of(panel.get_by_test_id("due")) == fmt(main["due"])
    days_left = int(text_of(panel.get_by_test_id("days-left")))
    assert days_left > 15  # this customer keeps a healthy balance: no warning
    assert panel.locator(".notice.warn").count() == 0
    chart = panel.locator("figure.chart svg")
    assert chart.locator("circle.dot").count() == 12
    assert chart.locator("path.line").get_attribute("d").startswith("M")
    movements = panel.locator("main table").last.locator("tbody tr")
    assert 1 <= movements.count() <= 5
    assert texts["no_cheques"].rstrip(".") in text_of(panel.locator("footer"))


def test_dashboard_warns_a_customer_who_owes_money(
    late_panel, demo_server, lang, fmt, text_of, shoot
):
    late = demo_server.figures["late"]
    late_panel.goto("/panel/")
    shoot(late_panel, f"{lang}-dashboard-amount-due")

    warning = late_panel.locator(".notice.warn[role=alert]")
    assert warning.is_visible()
    assert fmt(late["due"]) in text_of(warning)
    assert text_of(late_panel.get_by_test_id("due")) == fmt(late["due"])
    warning.locator("a").click()
    assert late_panel.url.endswith("/panel/payment-methods/")


def test_language_switch_in_the_header(panel, lang, text_of):
    other = "en" if lang == "fr" else "fr"
    panel.goto("/panel/invoices/")
    with panel.expect_navigation():
        panel.locator("header form button[name=language]").click()
    assert panel.url.endswith("/panel/invoices/")  # back on the same page
    assert panel.locator("html").get_attribute("lang") == other
    assert text_of(panel.locator("h1")) == ("Factures" if other == "fr" else "Invoices")

    with panel.expect_navigation():
        panel.locator("header form button[name=language]").click()
    assert panel.locator("html").get_attribute("lang") == lang


def test_invoices_list_and_status_filter(panel, lang, texts, text_of, shoot):
    panel.goto("/panel/invoices/")
    shoot(panel, f"{lang}-invoices")
    assert text_of(panel.locator("h1")) == texts["invoices"]
    rows = panel.locator("main table tbody tr")
    assert rows.count() >= 12  # a year of monthly invoices
    money_cell = re.compile(r"^(\d[\d ]*,\d\d €)$" if lang == "fr" else r"^(€[\d,]+\.\d\d)$")
    assert money_cell.match(text_of(rows.first.locator("td").nth(3)))

    panel.select_option("#id_state", "paid")
    panel.locator("form.filters button").click()
    panel.wait_for_url("**/panel/invoices/?state=paid")
    badges = {text_of(b) for b in panel.locator("main table tbody .badge").all()}
    assert badges == {texts["paid"]}

    panel.select_option("#id_state", "unpaid")
    panel.locator("form.filters button").click()
    panel.wait_for_url("**/panel/invoices/?state=unpaid")
    assert panel.locator("main table").count() == 0  # this customer has paid everything
    assert panel.locator("main p.muted").is_visible()


def test_invoice_detail_and_its_pdf(panel, lang, text_of, shoot):
    panel.goto("/panel/invoices/")
    first = panel.locator("main table tbody tr").first
    number = text_of(first.locator("td").first)
    total = text_of(first.locator("td").nth(3))
    first.locator("a").first.click()
    panel.wait_for_url(re.compile(r"/panel/invoices/\d+/$"))
    shoot(panel, f"{lang}-invoice-detail")

    assert number in text_of(panel.locator("h1"))
    assert total in text_of(panel.locator("main"))
    assert panel.locator("main table").first.locator("tbody tr").count() >= 1  # its lines

    pdf = panel.request.get(panel.url + "pdf/?download=1", timeout=120_000)
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert f'filename="{number}.pdf"' in pdf.headers["content-disposition"]
    assert pdf.body()[:5] == b"%PDF-"


def test_open_invoice_links_to_the_transfer_qr_code(late_panel, lang, text_of):
    late_panel.goto("/panel/invoices/?state=unpaid")
    late_panel.locator("main table tbody tr a").first.click()
    late_panel.wait_for_url(re.compile(r"/panel/invoices/\d+/$"))
    late_panel.locator(".notice.info a").click()  # "Bank details", with the amount left to pay
    late_panel.wait_for_url(re.compile(r"/panel/payment-methods/\?amount="))
    assert late_panel.get_by_test_id("transfer-qr").locator("svg").is_visible()


def test_payment_methods_bank_details_copy_buttons_and_no_cheques(
    panel, demo_server, lang, texts, text_of, shoot
):
    panel.context.grant_permissions(["clipboard-read", "clipboard-write"])
    panel.goto("/panel/payment-methods/")
    shoot(panel, f"{lang}-payment-methods")

    assert text_of(panel.locator("h1")) == texts["payment_methods"]
    assert texts["no_cheques"] in text_of(panel.get_by_test_id("no-cheques"))
    assert text_of(panel.locator("#iban")) == "FR76 3000 6000 0112 3456 7890 189"
    assert "AGRIFRPPXXX" in text_of(panel.locator("main"))
    reference = text_of(panel.get_by_test_id("reference"))
    assert reference == demo_server.figures["main"]["number"]

    panel.locator("button[data-copy=iban]").click()
    expect(panel.locator("#iban-status")).not_to_have_text("")  # no eval: the CSP forbids it
    assert panel.evaluate("navigator.clipboard.readText()") == "FR76 3000 6000 0112 3456 7890 189"
    panel.locator("button[data-copy=reference]").click()
    expect(panel.locator("#ref-status")).not_to_have_text("")  # no eval: the CSP forbids it
    assert panel.evaluate("navigator.clipboard.readText()") == reference


def test_transfer_qr_code_for_an_amount(panel, lang, fmt, text_of, shoot):
    panel.goto("/panel/payment-methods/?amount=49,90")
    qr = panel.get_by_test_id("transfer-qr")
    assert qr.locator("svg").is_visible()
    assert fmt("49.90") in text_of(panel.locator("section[aria-labelledby=transfer]"))
    qr.scroll_into_view_if_needed()
    shoot(panel, f"{lang}-payment-methods-qr")


def test_transfer_qr_code_refuses_a_bad_amount(panel, lang, texts, text_of):
    panel.goto("/panel/payment-methods/")
    panel.fill("#id_amount", "49,9O")
    panel.locator("section[aria-labelledby=transfer] form button").click()
    panel.wait_for_url("**/panel/payment-methods/?amount=*")
    error = panel.locator("section[aria-labelledby=transfer] .errors")
    assert error.is_visible()
    assert texts["amount_error"] in text_of(error)
    assert panel.get_by_test_id("transfer-qr").count() == 0


def _settings_values(page) -> dict[str, str]:
    fields = ("name", "email", "address_line1", "postal_code", "city", "country", "vat_number")
    return {f: page.input_value(f"#id_{f}") for f in fields}


def test_billing_settings_refuse_wrong_identifiers_and_change_nothing(
    panel, lang, texts, text_of, shoot
):
    panel.goto("/panel/payment-methods/settings/")
    assert texts["settings"] in text_of(panel.locator("nav.main [aria-current=page]"))
    before = _settings_values(panel)
    header = text_of(panel.locator("header .account span").first)

    panel.fill("#id_name", "Nom qui ne doit pas être enregistré")
    panel.fill("#id_siret", "73282932000075")  # wrong Luhn key
    panel.fill("#id_vat_number", "FR00123456789")
    panel.fill("#id_postal_code", "7500")
    panel.locator("main form button[type=submit]").click()
    panel.wait_for_load_state()
    shoot(panel, f"{lang}-settings-errors")

    errors = {
        field: text_of(panel.locator(f"#id_{field}_error"))
        for field in ("siret", "vat_number", "postal_code")
    }
    assert texts["siret_error"] in errors["siret"]
    assert texts["vat_error"] in errors["vat_number"]
    assert texts["postal_error"] in errors["postal_code"]
    assert panel.locator(".notice.ok").count() == 0

    panel.goto("/panel/payment-methods/settings/")
    assert _settings_values(panel) == before
    assert text_of(panel.locator("header .account span").first) == header


def test_billing_settings_save_a_valid_change(panel, lang, text_of, shoot):
    panel.goto("/panel/payment-methods/settings/")
    shoot(panel, f"{lang}-settings")
    complement = f"Bâtiment {lang.upper()} {int(time.time())}"
    panel.fill("#id_address_line2", complement)
    panel.locator("main form button[type=submit]").click()
    panel.wait_for_url("**/panel/payment-methods/settings/")
    assert panel.locator(".notice.ok").is_visible()
    # The language of invoices and e-mails did not change, so the panel stays in the one browsed.
    assert panel.locator("html").get_attribute("lang") == lang
    saved = {
        "en": "Your billing settings are saved.",
        "fr": "Vos paramètres de facturation sont enregistrés.",
    }
    assert text_of(panel.locator(".notice.ok")) == saved[lang]
    assert panel.input_value("#id_address_line2") == complement


def test_movements_filters_and_csv_export(panel, lang, texts, text_of, shoot):
    panel.goto("/panel/movements/")
    shoot(panel, f"{lang}-movements")
    assert texts["movements"] in text_of(panel.locator("nav.main [aria-current=page]"))
    amounts = panel.locator("main table tbody td.num")
    assert amounts.count() > 0
    assert panel.locator("main table tbody td.credit").count() > 0
    assert panel.locator("main table tbody td.debit").count() > 0

    panel.select_option("#id_kind", "top_up")
    panel.locator("form.filters button[type=submit]").click()
    panel.wait_for_url("**/panel/movements/?*kind=top_up*")
    assert panel.locator("main table tbody td.num").count() > 0
    assert panel.locator("main table tbody td.debit").count() == 0  # top-ups are credits

    with panel.expect_download() as download_info:
        panel.locator("form.filters a[href*='movements.csv']").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    content = download.path().read_text(encoding="utf-8")
    lines = content.lstrip("\ufeff").splitlines()
    assert content.startswith("\ufeff")
    assert len(lines[0].split(";")) == 6
    assert lines[0].split(";")[4] == ("Amount" if lang == "en" else "Montant")
    rows = [line.split(";") for line in lines[1:]]
    assert rows and all(re.fullmatch(r"\d+\.\d\d", row[4]) for row in rows)  # credits only
    assert {row[5] for row in rows} == {"EUR"}


def test_movements_refuse_a_start_after_the_end(panel, lang, text_of):
    panel.goto("/panel/movements/?since=2026-06-01&until=2026-01-01")
    assert panel.locator("main .notice.bad[role=alert]").is_visible()
    assert panel.locator("main table").count() == 0


def test_password_reset_by_e_mail(anonymous, demo_server, lang, text_of, shoot):
    address, _ = demo_server.logins["reset"]
    new_password = f"nouveau-secret-{lang}-{int(time.time())}"
    anonymous.goto("/panel/login/")
    anonymous.locator("main a[href$='/panel/password-reset/']").click()
    anonymous.wait_for_url("**/panel/password-reset/")
    shoot(anonymous, f"{lang}-password-reset")
    sent_before = len(demo_server.mails())
    anonymous.fill("#id_email", address)
    anonymous.locator("main button[type=submit]").click()
    anonymous.wait_for_url("**/panel/password-reset/sent/")
    shoot(anonymous, f"{lang}-password-reset-sent")

    mail = _wait_for_mail(demo_server, sent_before, address)
    english_subject = "Choose a new password for your billing space"
    assert (mail["Subject"] == english_subject) == (lang == "en"), mail["Subject"]
    link = re.search(r"http://\S+/panel/password-reset/\S+/\S+/", mail.get_content())
    assert link, mail.get_content()
    anonymous.goto(link.group(0))
    anonymous.wait_for_url("**/panel/password-reset/*/set-password/")
    anonymous.fill("#id_new_password1", new_password)
    anonymous.fill("#id_new_password2", new_password)
    anonymous.locator("main button[type=submit]").click()
    anonymous.wait_for_url("**/panel/password-reset/done/")

    anonymous.goto(link.group(0))  # a link works once
    assert anonymous.locator("main .notice.bad").is_visible()
    anonymous.goto("/panel/login/")
    anonymous.fill("#id_username", address)
    anonymous.fill("#id_password", new_password)
    anonymous.locator("main button[type=submit]").click()
    anonymous.wait_for_url("**/panel/")


def _wait_for_mail(server, already: int, address: str):
    """The reset message, once the console e-mail backend has written it to the server log."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        new = [m for m in server.mails()[already:] if m["To"] == address]
        if new:
            return new[-1]
        time.sleep(0.2)
    raise AssertionError(f"no e-mail to {address} in {server.log}")
