# SPDX-License-Identifier: AGPL-3.0-or-later
"""Customer e-mails: sent after the money is committed, in the customer's language, once each."""

from __future__ import annotations

import datetime as dt

from encaisse.core import periodic
from encaisse.invoicing import hooks as issuance
from encaisse.invoicing.credit_notes import issue_credit_note
from encaisse.invoicing.models import Plan
from encaisse.invoicing.subscriptions import subscribe
from encaisse.notifications import outbox, tasks
from encaisse.notifications.models import Notification, NotificationKind, NotificationStatus
from encaisse.payments import hooks as payment


def test_a_top_up_sends_a_receipt_in_the_customers_language(
    notifying, make_customer, top_up, mailoutbox, django_capture_on_commit_callbacks
):
    customer = make_customer(language="fr", email="compta@client.example")
    with django_capture_on_commit_callbacks(execute=True):
        top_up(customer, "50.00", reference="VIR-001")
    [mail] = mailoutbox
    assert mail.to == ["compta@client.example"]
    assert mail.subject == "Paiement de 50,00\xa0€ reçu"
    assert "Votre solde est maintenant de 50,00\xa0€." in mail.body
    assert "https://billing.example/panel/movements/" in mail.body


def test_a_replayed_top_up_sends_nothing_more(
    notifying, make_customer, top_up, mailoutbox, django_capture_on_commit_callbacks
):
    customer = make_customer(language="en")
    with django_capture_on_commit_callbacks(execute=True):
        top_up(customer, "50.00", reference="VIR-001")
        top_up(customer, "50.00", reference="VIR-001")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "Payment of €50.00 received"


def test_a_retried_task_sends_each_email_once(notifying, make_customer, top_up, mailoutbox):
    customer = make_customer()
    txn = top_up(customer, "20.00")
    assert tasks.payment_received.call(txn.pk) == 1
    assert tasks.payment_received.call(txn.pk) == 0
    assert len(mailoutbox) == 1
    note = Notification.objects.get(key=f"payment_received:{txn.pk}")
    assert note.sent_at is not None and note.kind == NotificationKind.PAYMENT_RECEIVED
    assert note.status == NotificationStatus.SENT


def test_billing_emails_each_invoice_and_warns_when_the_balance_runs_low(
    notifying, make_customer, charge, top_up, bill, mailoutbox, django_capture_on_commit_callbacks,
    actor,
):  # fmt: skip
    plan = Plan.objects.create(
        code="pro", name="Pro", unit_price="10.00", vat_rate="20", interval="month"
    )
    rich = make_customer(language="en", email="rich@example.org")
    poor = make_customer(language="fr", email="poor@example.org")
    for customer in (rich, poor):
        subscribe(customer.pk, plan.pk, start=dt.date(2026, 11, 1))
        charge(customer, "10.00")
    top_up(rich, "500.00")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        bill()
    by_recipient = {}
    for mail in mailoutbox:
        by_recipient.setdefault(mail.to[0], []).append(mail)
    rich_mail, poor_mail = by_recipient["rich@example.org"], by_recipient["poor@example.org"]
    assert [m.subject for m in rich_mail] == [f"Your invoice {rich.invoices.get().number}"]
    assert "nothing left to pay" in rich_mail[0].body
    subjects = sorted(m.subject for m in poor_mail)
    assert subjects == sorted(
        [f"Votre facture {poor.invoices.get().number}", "Votre solde prépayé est bientôt épuisé"]
    )
    invoice_mail = next(m for m in poor_mail if m.subject.startswith("Votre facture"))
    assert "24,00\xa0€ restent à payer avant le" in invoice_mail.body


def test_no_email_when_notifications_are_off(
    settings, make_customer, top_up, mailoutbox, django_capture_on_commit_callbacks
):
    settings.ENCAISSE_EMAIL_NOTIFICATIONS = False
    with django_capture_on_commit_callbacks(execute=True):
        top_up(make_customer(), "5.00")
    assert mailoutbox == []


def test_a_credit_note_is_emailed_once(
    notifying, make_customer, charge, bill, actor, mailoutbox, django_capture_on_commit_callbacks
):
    customer = make_customer(language="en", email="billing@client.example")
    charge(customer, "10.00")
    with django_capture_on_commit_callbacks(execute=True):
        bill()
    invoice = customer.invoices.get()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):  # the follow-ups, run inline
        note = issue_credit_note(invoice, actor=actor, reason="Service outage")
    assert outbox.send_pending() == 0  # the worker's passes find nothing more to send
    assert outbox.send_pending() == 0

    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["billing@client.example"], f"Credit note {note.number}")
    ]
    assert f"Credit note {note.number} of €12.00 has been issued." in mailoutbox[0].body
    assert Notification.objects.get(key=f"invoice_issued:{note.pk}").status == "sent"


def test_the_emails_are_plugged_into_invoicing_payments_and_the_worker():
    assert "email" in issuance.hooks
    assert "email" in payment.hooks
    assert "notifications.send_pending" in periodic.jobs
