# SPDX-License-Identifier: AGPL-3.0-or-later
"""Notifications become an outbox: a status, attempts, when the next one is due, the last error.

Existing rows keep their meaning: one with ``sent_at`` was sent; one without was claimed by a
task that did not finish, so it is pending and due now. ``cause_id`` is read back from the key
(``invoice_issued:42``, ``payment_received:7``, ``balance_low:<customer>:<month>``).
"""

from django.db import migrations, models


def fill_outbox_columns(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    for note in Notification.objects.filter(cause_id__isnull=True).iterator():
        note.cause_id = int(note.key.split(":")[1])
        if note.sent_at is not None:
            note.status, note.attempts, note.next_attempt_at = "sent", 1, None
        else:
            note.status, note.next_attempt_at = "pending", note.created_at
        note.save(update_fields=["cause_id", "status", "attempts", "next_attempt_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="cause_id",
            field=models.PositiveBigIntegerField(null=True, verbose_name="cause"),
        ),
        migrations.AddField(
            model_name="notification",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("failed", "Failed"),
                    ("cancelled", "Cancelled"),
                ],
                default="pending",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="attempts"),
        ),
        migrations.AddField(
            model_name="notification",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="next attempt"),
        ),
        migrations.AddField(
            model_name="notification",
            name="last_error",
            field=models.TextField(blank=True, verbose_name="last error"),
        ),
        migrations.RunPython(fill_outbox_columns, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="notification",
            name="cause_id",
            field=models.PositiveBigIntegerField(verbose_name="cause"),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("status__in", ("pending", "sending"))),
                fields=["next_attempt_at"],
                name="notification_due",
            ),
        ),
    ]
