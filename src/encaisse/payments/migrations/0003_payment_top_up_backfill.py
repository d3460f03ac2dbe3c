# SPDX-License-Identifier: AGPL-3.0-or-later
"""Link each payment that succeeded before 0002 to the top-up that credited it.

Until then a confirmed payment was credited under the key ``topup:<method>:payment:<id>``
(``other`` for a method that was not a :class:`PaymentMethod`): the format of that time, frozen
here as migrations must be. Refunds and disputes of those payments need the link.
"""

from django.db import migrations

FORMER_METHODS = {
    "bank_transfer",
    "mandat_administratif",
    "card",
    "paypal",
    "sepa_debit",
    "other",
}


def link_top_ups(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    LedgerTransaction = apps.get_model("ledger", "LedgerTransaction")
    for payment in Payment.objects.filter(status="succeeded", top_up__isnull=True):
        method = payment.provider if payment.provider in FORMER_METHODS else "other"
        key = f"topup:{method}:payment:{payment.pk}"
        top_up = LedgerTransaction.objects.filter(idempotency_key=key).first()
        if top_up is not None:
            Payment.objects.filter(pk=payment.pk).update(top_up=top_up)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0001_initial"),
        ("payments", "0002_providers_and_events"),
    ]

    operations = [
        migrations.RunPython(link_top_ups, migrations.RunPython.noop),
    ]
