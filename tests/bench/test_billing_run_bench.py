# SPDX-License-Identifier: AGPL-3.0-or-later
"""The billing-run benchmark still runs and verifies its result (a smoke test, not a timing).

``bench/billing_run.py`` seeds its own database through raw SQL that follows the schema; run on a
few hundred customers here, on the engine of the test pass, so that a schema change which breaks
it is caught by CI rather than by the next person measuring.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_billing_run_benchmark_runs_and_verifies():
    command = [sys.executable, str(ROOT / "bench" / "billing_run.py"), "--customers", "300"]
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        command += ["--database-url", url, "--db-name", "encaisse_bench_smoke"]
    else:
        command += ["--vm-steps"]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(
        command, check=False, capture_output=True, text=True, env=env, cwd=ROOT, timeout=280
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "verified: check_ledger ok" in done.stdout
    result = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"RESULT name=billing_run engine=\w+ n=300 seconds=[\d.]+ .*", result)
    if not url.startswith("postgres"):
        assert re.search(r" vm_instructions=[1-9]\d*$", result)
