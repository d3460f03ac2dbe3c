# SPDX-License-Identifier: AGPL-3.0-or-later
"""The declared layers hold (import-linter, as ``make lint`` runs it), and an import upward breaks
them: the check is not vacuous."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    """Run the project's contracts (pyproject.toml) over the package found in ``package_parent``."""
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=package_parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_code_keeps_its_layers():
    result = lint_imports(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("ledger/models.py", "encaisse.customers.services"),
        ("invoicing/issuance.py", "encaisse.notifications.tasks"),
        ("payments/services.py", "encaisse.web.panel.dashboard"),
        ("api/customers.py", "encaisse.web.panel.access"),
    ],
)
def test_an_import_upward_breaks_the_contract(tmp_path, module, upward):
    shutil.copytree(ROOT / "src" / "encaisse", tmp_path / "encaisse")
    with (tmp_path / "encaisse" / module).open("a") as source:
        source.write(f"\nimport {upward}  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    importer = "encaisse." + module.removesuffix(".py").replace("/", ".")
    assert re.search(rf"-\s+{re.escape(importer)} -> {re.escape(upward)} \(l\.", result.stdout)
