# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fault injection for crash tests: kill the process at a named point, on request.

Off unless ``ENCAISSE_FAULT_KILL_PROBABILITY`` is set (tests only), and inert under production
settings (``ENCAISSE_ENV=production``) whatever that variable says: a test variable left in a
server's environment must not kill billing runs. Money paths call :func:`checkpoint` between their
statements; the fault-injection test sets a probability and a seed, runs ``encaisse bill`` in a
subprocess and restarts it after every ``SIGKILL`` to prove that a crash anywhere neither loses nor
doubles money.
"""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Mapping


def kill_probability(environ: Mapping[str, str]) -> float:
    """The chance of dying at each checkpoint: 0 in production, read as the settings read it.

    Read from the environment rather than ``django.conf.settings``: this module sits below every
    app and is loaded once per process, like the variables it reads.
    """
    if environ.get("ENCAISSE_ENV") == "production":
        return 0.0
    return float(environ.get("ENCAISSE_FAULT_KILL_PROBABILITY") or 0)


_PROBABILITY = kill_probability(os.environ)
_RANDOM = random.Random(os.environ.get("ENCAISSE_FAULT_SEED"))  # noqa: S311 - not for security


def checkpoint(name: str) -> None:
    """Maybe die here, as abruptly as a power cut (no cleanup, no rollback by Python)."""
    if _PROBABILITY and _RANDOM.random() < _PROBABILITY:
        os.kill(os.getpid(), signal.SIGKILL)
