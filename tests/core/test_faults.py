# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fault injection kills at checkpoints on request, and never under production settings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from encaisse.core.faults import kill_probability

_CHECKPOINT = "from encaisse.core.faults import checkpoint; checkpoint('test'); print('alive')"


def _run_a_checkpoint(**variables: str) -> subprocess.CompletedProcess[str]:
    inherited = {"ENCAISSE_ENV", "ENCAISSE_FAULT_KILL_PROBABILITY", "ENCAISSE_FAULT_SEED"}
    env = {k: v for k, v in os.environ.items() if k not in inherited} | variables
    return subprocess.run(
        [sys.executable, "-c", _CHECKPOINT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("environ", "probability"),
    [
        ({}, 0.0),
        ({"ENCAISSE_FAULT_KILL_PROBABILITY": "0.25"}, 0.25),
        ({"ENCAISSE_FAULT_KILL_PROBABILITY": "0.25", "ENCAISSE_ENV": "development"}, 0.25),
        ({"ENCAISSE_FAULT_KILL_PROBABILITY": "1", "ENCAISSE_ENV": "production"}, 0.0),
    ],
)
def test_the_kill_probability_is_zero_under_production_settings(environ, probability):
    assert kill_probability(environ) == probability


def test_a_checkpoint_kills_the_process_when_asked_outside_production():
    result = _run_a_checkpoint(ENCAISSE_FAULT_KILL_PROBABILITY="1")

    assert result.returncode == -signal.SIGKILL
    assert "alive" not in result.stdout


def test_a_checkpoint_is_inert_under_production_settings_whatever_the_variable_says():
    result = _run_a_checkpoint(ENCAISSE_FAULT_KILL_PROBABILITY="1", ENCAISSE_ENV="production")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "alive"
