# SPDX-License-Identifier: AGPL-3.0-or-later
"""The staff back-office in a browser, in French and in English: sign-in with the authenticator
code, the dashboard of totals, customer search and page, recording a payment, invoices, ledger.

``staff`` is a page signed in once per session with password and TOTP code (a code is accepted once
per 30-second step); its language is the ``django_language`` cookie.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest

pytestmark = pytest.mark.browser

#: A demo customer no panel test looks at: the payment recorded here changes only its figures.
PAYER = "Pixel Nord SAS"


def _amount(text: str) -> Decimal:
    """ "1 135,12 €" or "€1,135.12" or "0,00" → Decimal."""
    digits = re.sub(r"[^\d,.\-−]", "", text).replace("−", "-")
    if re.search(r",\d\d$", digits):
        digits = digits.replace(".", "").replace(",", ".")
    return Decimal(digits.replace(",", ""))


#: What the sign-in page says of a wrong code: the one refusal, as for a wrong password (it also
#: covers django-otp refusing any code for a while after a wrong one).
WRONG_CODE = {
    "en": "Wrong user name, password or code.",
    "fr": "Nom d'utilisateur, mot de passe ou code incorrect.",
}


def _submit_a_wrong_code(page, server, lang, text_of) -> str:
    """Sign in with the right password and a wrong code; return the error shown."""
    page.fill("#id_username", server.logins["staff"][0])
    page.fill("#id_password", server.logins["staff"][1])
    page.fill("#id_otp_token", "000000" if server.totp_code() != "000000" else "111111")
    page.locator("input[type=submit]").click()
    page.wait_for_load_state()
    return text_of(page.locator(".errornote, .errorlist").first)


def test_staff_sign_in_asks_for_the_authenticator_code(
    anonymous, demo_server, lang, text_of, shoot
):
    anonymous.goto("/admin/")
    assert "/admin/login/" in anonymous.url
    assert anonymous.locator("#id_otp_token").is_visible()
    shoot(anonymous, f"{lang}-admin-login")

    error = _submit_a_wrong_code(anonymous, demo_server, lang, text_of)
    assert "/admin/login/" in anonymous.url  # the password alone does not open the back-office
    assert WRONG_CODE[lang] in error


def test_staff_dashboard_of_totals(staff, lang, text_of, shoot):
    staff.goto("/admin/")
    shoot(staff, f"{lang}-admin-index")
    assert staff.locator("html").get_attribute("lang") == lang
    held = text_of(staff.locator("#total-prepaid-held"))
    assert re.fullmatch(r"[\d ]+,\d\d €" if lang == "fr" else r"€[\d,]+\.\d\d", held), held
    assert _amount(held) > 0
    assert int(text_of(staff.locator("#invoices-due-count"))) >= 0
    assert int(text_of(staff.locator("#invoices-overdue-count"))) > 0  # the demo's late payers
    assert staff.locator("#dashboard a[href*='/admin/invoicing/billingrun/']").count() >= 1


def test_staff_customer_search_and_customer_page(staff, demo_server, lang, text_of, shoot):
    main = demo_server.figures["main"]
    staff.goto("/admin/customers/customer/")
    staff.fill("#searchbar", "Atelier")
    staff.locator("#changelist-search input[type=submit]").click()
    staff.wait_for_url("**/admin/customers/customer/?q=Atelier")
    shoot(staff, f"{lang}-admin-customers")
    rows = staff.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert main["number"] in text_of(rows.first)

    rows.first.locator("th.field-number a").click()
    staff.wait_for_url(re.compile(rf"/admin/customers/customer/{main['pk']}/change/(\?|$)"))
    shoot(staff, f"{lang}-admin-customer")
    record = "Record a payment" if lang == "en" else "Enregistrer un paiement"
    assert staff.get_by_role("link", name=re.compile(record, re.I)).count() == 1
    assert staff.locator("a[href*='/admin/ledger/ledgertransaction/']").count() >= 1


def _record_payment_page(staff, text_of):
    staff.goto("/admin/customers/customer/?q=" + PAYER.replace(" ", "+"))
    staff.locator("#result_list tbody th.field-number a").first.click()
    staff.wait_for_url(re.compile(r"/admin/customers/customer/\d+/change/(\?|$)"))
    staff.locator("a[href$='/record-payment/']").click()
    staff.wait_for_url(re.compile(r"/record-payment/$"))


def _position_on_form(staff, text_of) -> Decimal:
    """Prepaid balance minus amount due, as the form's header shows them."""
    prepaid, due = (_amount(text_of(s)) for s in staff.locator("#content-main p strong").all()[:2])
    return prepaid - due


def test_staff_records_a_payment_and_a_bad_one_changes_nothing(staff, lang, text_of, shoot):
    _record_payment_page(staff, text_of)
    shoot(staff, f"{lang}-admin-record-payment")
    form_url, before = staff.url, _position_on_form(staff, text_of)
    cheques = "Cheques are not accepted" if lang == "en" else "Les chèques ne sont pas acceptés"
    assert cheques in text_of(staff.locator("#content-main .messagelist"))
    options = " ".join(staff.locator("#id_method option").all_inner_texts()).lower()
    assert "cheque" not in options and "chèque" not in options

    staff.fill("#id_amount", "12,345")
    staff.select_option("#id_method", "bank_transfer")
    staff.fill("#id_reference", f"VIR-browser-bad-{lang}")
    staff.fill("#id_reason", "Browser test: a bad amount")
    staff.locator("#content-main input[type=submit]").click()
    staff.wait_for_load_state()
    assert staff.url == form_url
    error = text_of(staff.locator(".field-amount .errorlist"))
    assert ("is not an amount" if lang == "en" else "n'est pas un montant") in error

    # A cheque sent by hand (the form offers none) is refused too.
    token = staff.input_value("input[name=csrfmiddlewaretoken]")
    forged = staff.request.post(
        form_url,
        form={
            "csrfmiddlewaretoken": token,
            "amount": "20",
            "method": "cheque",
            "reference": f"CHQ-{lang}",
            "reason": "cheque",
        },
        headers={"Referer": form_url},
        max_redirects=0,
    )
    assert forged.status == 200  # the form again, with its error: no redirect, nothing recorded
    staff.goto(form_url)
    assert _position_on_form(staff, text_of) == before

    staff.fill("#id_amount", "10,00")
    staff.select_option("#id_method", "bank_transfer")
    staff.fill("#id_reference", f"VIR-browser-{lang}-{int(time.time())}")
    staff.fill("#id_reason", "Browser test: a transfer received")
    staff.locator("#content-main input[type=submit]").click()
    staff.wait_for_url(re.compile(r"/admin/customers/customer/\d+/change/(\?|$)"))
    assert staff.locator(".messagelist .success").is_visible()
    staff.goto(form_url)
    assert _position_on_form(staff, text_of) == before + 10  # credited, then paid open invoices


def test_staff_invoices_and_an_invoice(staff, lang, text_of, shoot):
    staff.goto("/admin/invoicing/invoice/")
    shoot(staff, f"{lang}-admin-invoices")
    assert staff.locator("#result_list tbody tr").count() >= 100
    staff.goto("/admin/invoicing/invoice/?status__exact=open&kind__exact=invoice")
    open_rows = staff.locator("#result_list tbody tr")
    assert open_rows.count() > 0
    assert len({text_of(r.locator("td.field-status")) for r in open_rows.all()}) == 1
    open_rows.first.locator("th.field-number a").click()
    staff.wait_for_url(re.compile(r"/admin/invoicing/invoice/\d+/change/(\?|$)"))
    shoot(staff, f"{lang}-admin-invoice")
    assert re.search(r"FA\d{4}-\d{6}", text_of(staff.locator("#content")))


def test_staff_ledger_transactions(staff, lang, text_of, shoot):
    staff.goto("/admin/ledger/ledgertransaction/")
    shoot(staff, f"{lang}-admin-ledger-transactions")
    assert staff.locator("#result_list tbody tr").count() >= 100
    staff.goto("/admin/ledger/ledgertransaction/?kind__exact=top_up")
    kinds = {
        text_of(r.locator("td.field-kind")) for r in staff.locator("#result_list tbody tr").all()
    }
    assert kinds == {"Top-up" if lang == "en" else "Alimentation du compte"}
