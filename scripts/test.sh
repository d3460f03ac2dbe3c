#!/usr/bin/env bash
# Runs the whole suite on SQLite, then on PostgreSQL (127.0.0.1:5432, started if it is down).
# ENCAISSE_REQUIRE_POSTGRES=1 (set by CI) makes a missing PostgreSQL an error instead of a skip.
# The browser tests (tests/browser, marker "browser": chromium against a gunicorn-served demo on
# SQLite) run once, in the SQLite pass; Debian's chromium is installed first if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL=${ENCAISSE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/encaisse}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
start_pg() {
    pg_up && return 0
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
        for _ in $(seq 1 30); do pg_up && return 0; sleep 0.5; done
    fi
    return 1
}

ensure_chromium() {
    [ -x "${ENCAISSE_CHROMIUM:-/usr/bin/chromium}" ] && return 0
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing Debian's chromium for the browser tests…"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq chromium >/dev/null \
            || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
    else
        echo "chromium is missing and this user cannot install it (apt-get install chromium):" \
            "the browser tests will fail" >&2
    fi
}

ensure_chromium
echo "== tests on SQLite =="
env -u DATABASE_URL "$BIN/pytest" "$@"

if start_pg; then
    echo "== tests on PostgreSQL =="
    DATABASE_URL="$PG_URL" "$BIN/pytest" -m "not browser" "$@"
elif [ "${ENCAISSE_REQUIRE_POSTGRES:-0}" = "1" ]; then
    echo "PostgreSQL is required (ENCAISSE_REQUIRE_POSTGRES=1) but not reachable on 127.0.0.1:5432" >&2
    exit 1
else
    echo "PostgreSQL not reachable on 127.0.0.1:5432: PostgreSQL run skipped" >&2
fi
