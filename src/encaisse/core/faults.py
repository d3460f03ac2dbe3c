# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fault injection for crash tests: kill the process at a named point, on request.

Off unless ``ENCAISSE_FAULT_KILL_PROBABILITY`` is set (tests only). Money paths call
:func:`checkpoint` between their statements; the fault-injection test sets a probability and a
seed, runs ``encaisse bill`` in a subprocess and restarts it after every ``SIGKILL`` to prove that
a crash anywhere neither loses nor doubles money.
"""

from __future__ import annotations

import os
import random
import signal

_PROBABILITY = float(os.environ.get("ENCAISSE_FAULT_KILL_PROBABILITY") or 0)
_RANDOM = random.Random(os.environ.get("ENCAISSE_FAULT_SEED"))  # noqa: S311 - not for security


def checkpoint(name: str) -> None:
    """Maybe die here, as abruptly as a power cut (no cleanup, no rollback by Python)."""
    if _PROBABILITY and _RANDOM.random() < _PROBABILITY:
        os.kill(os.getpid(), signal.SIGKILL)
