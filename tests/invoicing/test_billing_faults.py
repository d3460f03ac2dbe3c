# SPDX-License-Identifier: AGPL-3.0-or-later
"""Kill -9 resume of the billing run (ledger-and-reliability.md §5.2): nothing lost, nothing doubled.

A real ``encaisse bill --period 2026-11 --chunk-size 50`` runs in subprocesses against its own
database (a SQLite file, or a PostgreSQL database created for the test when the session runs on
PostgreSQL), seeded with a few thousand customers by ``tests/support/billing_crash_db.py``. Most
attempts set ``ENCAISSE_FAULT_KILL_PROBABILITY`` with a new ``ENCAISSE_FAULT_SEED``, so the process
SIGKILLs itself at a random ``faults.checkpoint`` inside a chunk's transaction (``core/faults.py``);
the others are killed from outside with ``os.kill(pid, SIGKILL)`` a random moment after they made
progress (anywhere: mid-statement, mid-commit, between chunks). After twelve kills (at least
five required) an attempt without fault injection must finish the run and exit 0; then the
finished period is billed once more (a replay must change nothing).

The database must then show exactly what one uninterrupted run would have produced: one invoice
per customer with charges, none for the others, every charge of the period invoiced exactly once
and no later charge, each prepaid balance = initial balance - what its invoice settled (at most one
issuance settlement per invoice: nobody debited twice, nobody skipped), ``check_ledger()`` clean,
and invoice numbers FA<year>-000001…N without gap or duplicate, in issuance order.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow

SUPPORT = Path(__file__).resolve().parents[1] / "support" / "billing_crash_db.py"
CUSTOMERS = int(os.environ.get("ENCAISSE_FAULT_CUSTOMERS") or 2400)
CHUNK_SIZE = 50
KILL_PROBABILITY = "0.03"
MIN_KILLS = 5
TARGET_KILLS = 12
# issue_invoices passes three faults.checkpoint() per chunk (invoices inserted, ledger posted,
# balances updated); used only to pick seeds that die before the run ends (see below).
CHECKPOINTS_PER_CHUNK = 3
TIMEOUT = 600  # seconds for one subprocess: generous, the machine may be busy
SEED = int(os.environ.get("ENCAISSE_FAULT_TEST_SEED") or 20261126)
COUNT_CHUNKS = (
    "SELECT SUM(CASE WHEN c.status = 'done' THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN c.status = 'pending' THEN 1 ELSE 0 END) "
    "FROM invoicing_billingrunchunk c JOIN invoicing_billingrun r ON r.id = c.run_id "
    "WHERE r.status = 'running'"
)


def _encaisse() -> list[str]:
    script = Path(sys.executable).with_name("encaisse")
    return [str(script)] if script.exists() else [sys.executable, "-m", "encaisse.cli"]


class FaultDatabase:
    """The subprocesses' database and a way to watch the run's progress from the test."""

    def __init__(self, env: dict[str, str], progress_query) -> None:
        self.env = env
        self._query = progress_query

    def chunks(self) -> tuple[int, int | None]:
        """(done, pending) chunks of the running run; pending is None while no run is running."""
        try:
            done, pending = self._query(COUNT_CHUNKS)
        except Exception:
            return 0, None
        return int(done or 0), None if pending is None else int(pending)


@contextlib.contextmanager
def fault_database(tmp_path: Path) -> Iterator[FaultDatabase]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ENCAISSE_", "DATABASE_URL", "PYTEST_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="encaisse.settings",
        ENCAISSE_DATA_DIR=str(tmp_path),
        ENCAISSE_TASKS_BACKEND="django.tasks.backends.dummy.DummyBackend",
        ENCAISSE_RENDER_PDF="0",
        PYTHONUNBUFFERED="1",
    )
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        path = tmp_path / "encaisse.sqlite3"

        def query(sql: str) -> tuple:
            db = sqlite3.connect(path, timeout=30)
            try:
                return db.execute(sql).fetchone()
            finally:
                db.close()

        yield FaultDatabase(env, query)
        return

    import psycopg

    name = f"encaisse_faults_{os.getpid()}"
    url = urlsplit(os.environ["DATABASE_URL"])
    admin = psycopg.connect(urlunsplit(url._replace(path="/postgres")), autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{name}"))
    watcher = None
    try:

        def query(sql: str) -> tuple:
            nonlocal watcher
            if watcher is None or watcher.closed:
                watcher = psycopg.connect(env["DATABASE_URL"], autocommit=True)
            return watcher.execute(sql).fetchone()

        yield FaultDatabase(env, query)
    finally:
        if watcher is not None:
            watcher.close()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: PLW1510 - the caller checks the return code
        args, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


def _checked(args: list[str], env: dict[str, str]) -> str:
    done = _run(args, env)
    assert done.returncode == 0, f"{args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _bill(db: FaultDatabase, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    command = [*_encaisse(), "bill", "--period", "2026-11", "--chunk-size", str(CHUNK_SIZE)]
    return subprocess.Popen(
        [*command, "--no-progress"],
        env={**db.env, **(extra_env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _seed_dying_within(rng: random.Random, checkpoints: int) -> str:
    """A fault seed whose process dies within its first ``checkpoints`` checkpoints.

    ``core.faults`` draws ``random.Random(seed).random()`` once per checkpoint and dies at the
    first draw below the probability; picking seeds that die before the last chunks makes every
    fault-injected attempt a real interruption instead of leaving the count of kills to luck.
    """
    probability = float(KILL_PROBABILITY)
    while True:
        seed = str(rng.randrange(2**32))
        draws = random.Random(seed)
        if any(draws.random() < probability for _ in range(max(checkpoints, 1))):
            return seed


def _kill_after_progress(db: FaultDatabase, process: subprocess.Popen, delay: float) -> None:
    """SIGKILL ``process`` ``delay`` seconds after it committed its next chunk (if still alive)."""
    done_before, _ = db.chunks()
    deadline = time.monotonic() + TIMEOUT
    while process.poll() is None and time.monotonic() < deadline:
        if db.chunks()[0] > done_before:
            time.sleep(delay)
            break
        time.sleep(0.02)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)


def test_billing_run_killed_at_random_points_neither_loses_nor_doubles_money(tmp_path):
    """kill -9 anywhere in ``encaisse bill`` + restart = one clean run (I1–I5, gapless numbers)."""
    rng = random.Random(SEED)
    with fault_database(tmp_path) as db:
        _checked([*_encaisse(), "migrate", "--no-input", "-v", "0"], db.env)
        seeded = json.loads(
            _checked(
                [
                    sys.executable,
                    str(SUPPORT),
                    "seed",
                    "--customers",
                    str(CUSTOMERS),
                    "--seed",
                    "7",
                ],
                db.env,
            )
        )
        kills = {"self": 0, "external": 0}
        attempts, started = 0, time.monotonic()
        while sum(kills.values()) < TARGET_KILLS:
            _, pending = db.chunks()
            if pending is not None and pending < 3:
                break  # too little left to interrupt meaningfully
            attempts += 1
            outside = attempts % 3 == 0
            if outside:
                process = _bill(db)
                _kill_after_progress(db, process, delay=rng.uniform(0, 0.05))
            else:
                # Spread what is left over the kills still wanted: die within that many chunks.
                left = CUSTOMERS // CHUNK_SIZE - 8 if pending is None else pending
                budget = max(1, (left - 2) // (TARGET_KILLS - sum(kills.values()) + 1))
                fault_seed = _seed_dying_within(rng, CHECKPOINTS_PER_CHUNK * budget)
                process = _bill(
                    db,
                    {
                        "ENCAISSE_FAULT_KILL_PROBABILITY": KILL_PROBABILITY,
                        "ENCAISSE_FAULT_SEED": fault_seed,
                    },
                )
            out, err = process.communicate(timeout=TIMEOUT)
            if process.returncode == -signal.SIGKILL:
                kills["external" if outside else "self"] += 1
                continue
            assert process.returncode == 0, f"attempt {attempts} failed:\n{out}\n{err}"
            break  # the run finished under fault injection: nothing left to interrupt
        # Resume without fault injection until done, then bill the finished period once more.
        final = _checked([*_encaisse(), "bill", "--period", "2026-11", "--no-progress"], db.env)
        replay = _checked([*_encaisse(), "bill", "--period", "2026-11", "--no-progress"], db.env)
        result = json.loads(_checked([sys.executable, str(SUPPORT), "verify"], db.env))
        elapsed = time.monotonic() - started

    print(  # the figures the test proves, shown with pytest -s / -rA
        f"\nbilling kill -9 test ({connection_vendor()}): {seeded['customers']} customers, "
        f"{result['customers_with_charges']} with charges, {attempts} interrupted-or-not attempts, "
        f"kills: {kills['self']} self (checkpoint) + {kills['external']} outside = "
        f"{sum(kills.values())}, {result['invoices']} invoices "
        f"{result['first_number']}…{result['last_number']}, {elapsed:.1f} s"
    )
    assert sum(kills.values()) >= MIN_KILLS, kills
    assert "completed" in final and "completed" in replay
    assert "0 invoices" in replay, replay
    assert result["ledger_ok"], result["ledger_report"]
    assert result["customers"] == CUSTOMERS
    assert result["invoices"] == result["customers_with_charges"] > 0
    for key in (
        "customers_without_invoice",
        "customers_with_several_invoices",
        "invoices_for_customers_without_charges",
        "charges_skipped",
        "charges_on_another_customers_invoice",
        "later_charges_invoiced",
        "customers_debited_twice",
        "customers_with_wrong_balance",
        "customers_with_wrong_settlement",
        "invoices_with_wrong_total",
        "invoices_outside_runs",
        "duplicate_numbers",
    ):
        assert result[key] == 0, (key, result)
    assert result["numbers_gapless"], result
    assert result["numbers_in_issue_order"], result
    runs_with_invoices = [run for run in result["runs"] if run["invoices"]]
    assert len(runs_with_invoices) == 1, result["runs"]
    assert all(run["status"] == "completed" for run in result["runs"]), result["runs"]


def connection_vendor() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    return "PostgreSQL" if engine.endswith("postgresql") else "SQLite"
