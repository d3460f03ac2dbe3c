# SPDX-License-Identifier: AGPL-3.0-or-later
"""Production settings pass Django's deployment checklist and refuse to start without secrets."""

import os
import subprocess
import sys


def _encaisse(args, env_overrides, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    env.update(ENCAISSE_DATA_DIR=str(tmp_path), **env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "encaisse.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_reports_nothing_above_info_under_production_settings(tmp_path):
    result = _encaisse(
        ["check", "--deploy", "--fail-level", "INFO"],
        {
            "ENCAISSE_ENV": "production",
            "SECRET_KEY": "k" * 20 + "-production-secret-for-the-check-0123456789",
            "ALLOWED_HOSTS": "billing.example.com",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _encaisse(
        ["check"], {"ENCAISSE_ENV": "production", "ALLOWED_HOSTS": "billing.example.com"}, tmp_path
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_checkledger_command_passes_on_a_fresh_database(tmp_path):
    assert _encaisse(["migrate", "-v0"], {}, tmp_path).returncode == 0
    result = _encaisse(["checkledger"], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ledger OK" in result.stdout
