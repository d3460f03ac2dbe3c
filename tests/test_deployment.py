# SPDX-License-Identifier: AGPL-3.0-or-later
"""Production settings pass Django's deployment checklist and refuse to start without secrets.

Nor with a weak ``SECRET_KEY`` (Django's own criteria, security.W009), with ``DEBUG`` on, or
without ``DATABASE_URL`` (it would quietly run on a local SQLite file): the settings raise
ImproperlyConfigured at import, naming every problem at once.

Nor without the seller's legal identity: production has no example seller, so ``encaisse check
--deploy`` names every missing or invalid ``ENCAISSE_SELLER_*`` variable and the web process
(``encaisse.wsgi``) refuses to start; outside production the example seller passes the same check.
"""

import os
import subprocess
import sys

import pytest

PRODUCTION = {
    "ENCAISSE_ENV": "production",
    "SECRET_KEY": "k" * 20 + "-production-secret-for-the-check-0123456789",
    "ALLOWED_HOSTS": "billing.example.com",
    "DATABASE_URL": "postgres://encaisse@db.invalid:5432/encaisse",  # never connected to here
}
SELLER = {  # a real-looking seller, valid for every validator (not the example company)
    "ENCAISSE_SELLER_NAME": "Nuage Vert SARL",
    "ENCAISSE_SELLER_LEGAL_FORM": "SARL au capital de 8 000 €, RCS Lyon 552 100 554",
    "ENCAISSE_SELLER_ADDRESS_LINE1": "4 quai des Étroits",
    "ENCAISSE_SELLER_ADDRESS_LINE2": "Bâtiment B",
    "ENCAISSE_SELLER_POSTAL_CODE": "69005",
    "ENCAISSE_SELLER_CITY": "Lyon",
    "ENCAISSE_SELLER_COUNTRY": "FR",
    "ENCAISSE_SELLER_SIRET": "55210055400013",
    "ENCAISSE_SELLER_VAT": "FR96552100554",
    "ENCAISSE_SELLER_IBAN": "FR14 2004 1010 0505 0001 3M02 606",
    "ENCAISSE_SELLER_BIC": "PSSTFRPPLYO",
    "ENCAISSE_SELLER_EMAIL": "factures@nuage-vert.example",
}
REQUIRED = sorted(set(SELLER) - {"ENCAISSE_SELLER_ADDRESS_LINE2"})


def _encaisse(args, env_overrides, tmp_path, *, command=("-m", "encaisse.cli")):
    inherited = {"DATABASE_URL", "SECRET_KEY", "ENCAISSE_ENV", "ENCAISSE_SELLER_ADDRESS", *SELLER}
    inherited |= {"DEBUG", "ALLOWED_HOSTS"}
    env = {k: v for k, v in os.environ.items() if k not in inherited}
    env.update(ENCAISSE_DATA_DIR=str(tmp_path), **env_overrides)
    return subprocess.run(
        [sys.executable, *command, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_reports_nothing_above_info_under_production_settings(tmp_path):
    result = _encaisse(["check", "--deploy", "--fail-level", "INFO"], PRODUCTION | SELLER, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _encaisse(
        ["check"], {"ENCAISSE_ENV": "production", "ALLOWED_HOSTS": "billing.example.com"}, tmp_path
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    "secret_key",
    [
        "x",  # too short
        "k" * 64,  # one character repeated
        "django-insecure-" + "0123456789abcdef" * 4,  # Django's placeholder prefix
    ],
)
def test_production_refuses_to_start_with_a_weak_secret_key(tmp_path, secret_key):
    result = _encaisse(["check"], PRODUCTION | SELLER | {"SECRET_KEY": secret_key}, tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is too weak" in result.stderr


def test_production_refuses_to_start_with_debug_on(tmp_path):
    result = _encaisse(["check"], PRODUCTION | SELLER | {"DEBUG": "1"}, tmp_path)

    assert result.returncode != 0
    assert "DEBUG must be off when ENCAISSE_ENV=production" in result.stderr


def test_production_refuses_to_start_without_a_database_url(tmp_path):
    settings = PRODUCTION | SELLER
    del settings["DATABASE_URL"]
    result = _encaisse(["check"], settings, tmp_path)

    assert result.returncode != 0
    assert "DATABASE_URL must be set when ENCAISSE_ENV=production" in result.stderr
    assert not list(tmp_path.glob("*.sqlite3"))  # no SQLite file made on the way


def test_production_names_every_problem_at_once(tmp_path):
    result = _encaisse(["check"], {"ENCAISSE_ENV": "production", "DEBUG": "true"}, tmp_path)

    assert result.returncode != 0
    for problem in ("SECRET_KEY must be set", "DEBUG must be off", "DATABASE_URL must be set"):
        assert problem in result.stderr, problem
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_production_sends_the_language_cookie_secure_and_a_content_security_policy(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.LANGUAGE_COOKIE_SECURE, s.LANGUAGE_COOKIE_HTTPONLY, s.LANGUAGE_COOKIE_SAMESITE); "
        "print('django.middleware.csp.ContentSecurityPolicyMiddleware' in s.MIDDLEWARE); "
        "from django.utils.csp import build_policy; print(build_policy(s.SECURE_CSP))"
    )
    env = PRODUCTION | SELLER | {"DJANGO_SETTINGS_MODULE": "encaisse.settings"}
    result = _encaisse(["-c", code], env, tmp_path, command=())

    assert result.returncode == 0, result.stderr
    cookie, middleware, policy = result.stdout.splitlines()
    assert (cookie, middleware) == ("True True Lax", "True")
    for directive in ("default-src 'self'", "script-src 'self';", "frame-ancestors 'none'"):
        assert directive in policy, policy
    assert "unsafe-inline" not in policy


def test_the_production_checks_doctests_hold():
    import doctest

    from encaisse import settings

    assert doctest.testmod(settings).failed == 0


def test_check_deploy_names_each_missing_seller_variable_under_production_settings(tmp_path):
    result = _encaisse(["check", "--deploy"], PRODUCTION, tmp_path)

    assert result.returncode != 0
    for variable in REQUIRED:
        assert f"(customers.E001) {variable} is missing" in result.stderr, variable
    assert "ENCAISSE_SELLER_ADDRESS_LINE2" not in result.stderr  # the one optional part
    assert "Hébergeur Exemple" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("ENCAISSE_SELLER_SIRET", "55210055400014", "is not a valid SIRET number"),
        ("ENCAISSE_SELLER_IBAN", "FR14 2004 1010 0505 0001 3M02 607", "is not a valid IBAN"),
    ],
)
def test_check_deploy_names_an_invalid_seller_variable(tmp_path, variable, value, named):
    result = _encaisse(["check", "--deploy"], PRODUCTION | SELLER | {variable: value}, tmp_path)

    assert result.returncode != 0
    assert f"(customers.E002) {variable}: “{value}” {named}" in result.stderr
    assert "customers.E001" not in result.stderr


def test_the_web_process_refuses_to_start_without_the_seller_under_production_settings(tmp_path):
    code = "import encaisse.wsgi"
    incomplete = PRODUCTION | SELLER
    del incomplete["ENCAISSE_SELLER_IBAN"]
    result = _encaisse(["-c", code], incomplete, tmp_path, command=())

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "ENCAISSE_SELLER_IBAN is missing" in result.stderr
    started = _encaisse(["-c", code], PRODUCTION | SELLER, tmp_path, command=())
    assert started.returncode == 0, started.stderr


def test_the_example_seller_passes_the_seller_check_outside_production(tmp_path):
    result = _encaisse(
        ["check", "--deploy", "--tag", "seller", "--fail-level", "INFO"], {}, tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_checkledger_command_passes_on_a_fresh_database(tmp_path):
    assert _encaisse(["migrate", "-v0"], {}, tmp_path).returncode == 0
    result = _encaisse(["checkledger"], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ledger OK" in result.stdout
