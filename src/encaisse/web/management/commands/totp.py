# SPDX-License-Identifier: AGPL-3.0-or-later
"""``encaisse totp``: the authenticator apps (TOTP second factor) of staff users.

::

    encaisse totp enroll alice            # prints the otpauth:// URI (and a QR code) once
    encaisse totp enroll alice --replace  # a lost or new phone: the old app stops working
    encaisse totp list
    encaisse totp remove alice --reason "left the company"

The URI holds the secret: it is printed once, for the staff user to scan, and the admin never
shows it (``OTP_ADMIN_HIDE_SENSITIVE_DATA``). Enrolment and removal are audit-logged with the
operating-system user as the actor, since a shell has no staff login.
"""

from __future__ import annotations

import getpass
import io
from typing import Any

import segno
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from encaisse.core.actors import Actor, ActorKind
from encaisse.core.exceptions import EncaisseError
from encaisse.web.staff import second_factor


def _cli_actor() -> Actor:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(ActorKind.SYSTEM, "totp-command", f"cli:{user}")


def _terminal_qr(uri: str) -> str:
    """The URI as a QR code drawn with block characters (segno, a pinned dependency)."""
    out = io.StringIO()
    segno.make(uri, error="m").terminal(out=out, compact=True)
    return out.getvalue()


class Command(BaseCommand):
    help = "Manage the authenticator apps (TOTP second factor) of staff users."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        enroll = sub.add_parser("enroll", help="set up a staff user's authenticator app")
        enroll.add_argument("username")
        enroll.add_argument("--replace", action="store_true", help="replace the current app")
        enroll.add_argument("--no-qr", action="store_true", help="print the URI only")
        sub.add_parser("list", help="list staff users' apps (never the secrets)")
        remove = sub.add_parser("remove", help="remove a user's apps (they can no longer sign in)")
        remove.add_argument("username")
        remove.add_argument("--reason", default="", help="why (kept in the audit log)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except EncaisseError as exc:
            raise CommandError(str(exc)) from exc

    def _user(self, username: str) -> Any:
        model = get_user_model()
        try:
            return model._default_manager.get_by_natural_key(username)
        except model.DoesNotExist as exc:
            raise CommandError(f"No user “{username}”.") from exc

    def _enroll(self, options: dict[str, Any]) -> None:
        user = self._user(options["username"])
        device = second_factor.enroll_totp_device(
            user, actor=_cli_actor(), replace=options["replace"]
        )
        uri = device.config_url
        self.stdout.write(f"Authenticator app set up for {user.get_username()}.")
        self.stdout.write(
            "Scan the QR code or copy the URI into the app now; it is not shown again."
        )
        qr = "" if options["no_qr"] else _terminal_qr(uri)
        if qr:
            self.stdout.write(qr, ending="")
        self.stdout.write(uri)

    def _list(self, options: dict[str, Any]) -> None:
        devices = list(second_factor.totp_devices())
        for device in devices:
            created = timezone.localtime(device.created_at)
            used = timezone.localtime(device.last_used_at) if device.last_used_at else None
            self.stdout.write(
                f"{device.user.get_username()}  set up {created:%Y-%m-%d %H:%M}  "
                f"last used {f'{used:%Y-%m-%d %H:%M}' if used else 'never'}"
                + ("" if device.user.is_staff else "  (not staff)")
            )
        if not devices:
            self.stdout.write("No authenticator app is set up.")

    def _remove(self, options: dict[str, Any]) -> None:
        user = self._user(options["username"])
        removed = second_factor.remove_totp_devices(
            user, actor=_cli_actor(), reason=options["reason"]
        )
        self.stdout.write(f"{removed} authenticator app(s) of {user.get_username()} removed.")
