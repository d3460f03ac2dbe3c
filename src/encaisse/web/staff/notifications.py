# SPDX-License-Identifier: AGPL-3.0-or-later
"""Customer e-mails in the back-office: the outbox as it stands, read-only, and a way to retry.

Staff see what was sent, what waits for its next attempt and why the last one failed (a wrong
address, a mail server down). An e-mail that exhausted its attempts is ``failed``; once the cause
is fixed, the "retry" action gives it a new series of attempts (audited,
``notifications.services.retry_failed_email``); the worker's next pass sends it.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from encaisse.core.actors import Actor
from encaisse.notifications.models import Notification
from encaisse.notifications.services import retry_failed_email

from .readonly import ReadOnlyAdmin


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "kind",
        "customer",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )
    list_filter = ("status", "kind")
    search_fields = ("key", "recipient", "customer__number", "customer__name")
    list_select_related = ("customer",)
    date_hierarchy = "created_at"
    actions = ("retry",)

    @admin.action(description=_("Retry the failed e-mails selected"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        actor = Actor.staff(request.user)
        retried = sum(
            retry_failed_email(note, actor=actor, reason="retried from the back-office")
            for note in queryset
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d e-mail will be sent again.",
                "%(count)d e-mails will be sent again.",
                retried,
            )
            % {"count": retried},
            messages.SUCCESS if retried else messages.WARNING,
        )
