# SPDX-License-Identifier: AGPL-3.0-or-later
"""``encaisse apikey``: create, list and revoke API keys; purge old idempotency records.

::

    encaisse apikey create --name "hosting platform" --scope read --scope charges \
        [--expires 2027-12-31]                          # prints the key once
    encaisse apikey list                                # scopes, expiry, last use, state
    encaisse apikey revoke 1a2b3c4d --reason "leaked in a log"
    encaisse apikey purge-idempotency --older-than-hours 24   # e.g. daily from cron

A key gets only the scopes named (``--scope all`` for every one); none named is refused with the
list of scopes, so a key is never all-powerful by omission. ``--expires`` takes a date (the key
stops working at 00:00 that day, server time zone) or an ISO date-time.

Creation and revocation are audit-logged (``encaisse.api_key.created`` / ``.revoked``, with the
scopes) with the operating-system user as the actor, since a shell has no staff login.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from encaisse.api import idempotency, keys
from encaisse.api.models import ApiKey
from encaisse.core.actors import Actor, ActorKind
from encaisse.core.exceptions import EncaisseError


def _expiry(value: str) -> dt.datetime:
    """``2027-12-31`` (00:00 that day, server time zone) or an ISO date-time."""
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date (2027-12-31) or an ISO date-time"
        ) from exc
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _when(moment: dt.datetime | None, default: str) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else default


def _cli_actor() -> tuple[Actor, str]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    label = f"cli:{user}"
    return Actor(ActorKind.SYSTEM, "apikey-command", label), label


class Command(BaseCommand):
    help = "Manage the API keys of the hosting platform and purge old idempotency records."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = sub.add_parser("create", help="create a key and print it once")
        create.add_argument("--name", required=True, help="who uses the key, e.g. the platform")
        create.add_argument(
            "--scope",
            action="append",
            default=[],
            dest="scopes",
            metavar="SCOPE",
            help=f"what the key may do, repeatable: {keys.scope_list()}",
        )
        create.add_argument(
            "--expires", type=_expiry, help="expiry: a date (00:00 that day) or an ISO date-time"
        )
        sub.add_parser("list", help="list keys (prefix, name, scopes, state; never the key)")
        revoke = sub.add_parser("revoke", help="revoke a key for good")
        revoke.add_argument("prefix", help="the 8 characters after enc_")
        revoke.add_argument("--reason", default="", help="why (kept in the audit log)")
        purge = sub.add_parser("purge-idempotency", help="delete old idempotency records")
        purge.add_argument("--older-than-hours", type=int, default=24, help="at least 24")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"].replace("-", "_")
        try:
            getattr(self, f"_{action}")(options)
        except EncaisseError as exc:
            raise CommandError(str(exc)) from exc

    def _create(self, options: dict[str, Any]) -> None:
        actor, label = _cli_actor()
        key, raw_key = keys.create_api_key(
            name=options["name"],
            scopes=options["scopes"],
            expires_at=options["expires"],
            created_by=label,
            actor=actor,
        )
        self.stdout.write(
            f"API key “{key.name}” created (prefix {key.prefix}, scopes {', '.join(key.scopes)}, "
            f"expires {_when(key.expires_at, 'never')})."
        )
        self.stdout.write("Copy it now: it is stored hashed and will never be shown again.")
        self.stdout.write(raw_key)

    def _list(self, options: dict[str, Any]) -> None:
        for key in ApiKey.objects.order_by("created_at", "id"):
            state = key.state.value
            if key.revoked_at:
                state = f"revoked {_when(key.revoked_at, '')}"
            self.stdout.write(
                f"{key.prefix}  {key.name}  scopes {','.join(key.scopes) or '-'}  "
                f"created {_when(key.created_at, '?')} by {key.created_by or '?'}  "
                f"expires {_when(key.expires_at, 'never')}  "
                f"last used {_when(key.last_used_at, 'never')}  {state}"
            )

    def _revoke(self, options: dict[str, Any]) -> None:
        actor, _label = _cli_actor()
        key = keys.revoke_api_key(
            keys.get_by_prefix(options["prefix"]), actor=actor, reason=options["reason"]
        )
        self.stdout.write(f"API key {key.prefix} ({key.name}) revoked.")

    def _purge_idempotency(self, options: dict[str, Any]) -> None:
        hours = options["older_than_hours"]
        deleted = idempotency.purge_records(older_than=dt.timedelta(hours=hours))
        self.stdout.write(f"{deleted} idempotency records older than {hours} h deleted.")
