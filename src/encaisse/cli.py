# SPDX-License-Identifier: AGPL-3.0-or-later
"""The ``encaisse`` command: Django's management commands under the project's name.

``encaisse migrate``, ``encaisse bill --period 2026-11``, ``encaisse apikey create``,
``encaisse demo``, and ``encaisse worker`` (the background task worker and its periodic jobs).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "encaisse.settings")
    # Imported once the settings module is chosen (the line above), as manage.py does.
    from django.core.management import execute_from_command_line  # noqa: PLC0415

    args = list(sys.argv if argv is None else argv)
    args[0] = "encaisse"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
