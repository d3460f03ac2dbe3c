# SPDX-License-Identifier: AGPL-3.0-or-later
"""The ``encaisse`` command: Django's management commands under the project's name.

``encaisse migrate``, ``encaisse bill --period 2026-11``, ``encaisse apikey create``,
``encaisse demo``, and ``encaisse worker`` (the background task worker, ``db_worker``).
"""

from __future__ import annotations

import os
import sys

ALIASES = {"worker": "db_worker"}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "encaisse.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "encaisse"
    if len(args) > 1:
        args[1] = ALIASES.get(args[1], args[1])
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
