# SPDX-License-Identifier: AGPL-3.0-or-later
"""Benchmark of the monthly billing run (goals P1–P3 and P8 of ledger-and-reliability.md §4).

    .venv/bin/python bench/billing_run.py --customers 100000
    .venv/bin/python bench/billing_run.py --customers 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/postgres

Each run starts from a fresh database: a SQLite file under ``bench/out/`` by default, or, with
``--database-url postgres://…``, a dedicated PostgreSQL database (``--db-name``, default
``encaisse_bench``; the database named in the URL is never touched) dropped and created again.

1. seed N customers with raw SQL (``executemany``; COPY on PostgreSQL): two accounts each, a
   balanced bank top-up for 95 % of them — most cover their invoice, some only part of it, 5 % have
   no balance — and one or two uninvoiced charges of the billing month; and time
   ``check_ledger()`` on that ledger (P8);
2. measure the raw-SQL floor: the same prepaid accounts debited by the same amounts, in chunks of
   the same size, one transaction per chunk (one debit row per account under a unique
   (run, account) constraint, a guarded balance update, one aggregated counter-account update),
   ``--floor-runs`` times (3) from the same state, each after a checkpoint; the ratio uses the
   median, as a single floor varied by a third from run to run on some machines;
3. time the billing run exactly as production runs it (``billing.start_run`` +
   ``billing.process_run``, with ``ENCAISSE_BILLING_WORKERS`` chunks at a time on PostgreSQL;
   PDFs off, tasks go to the dummy backend) and verify the result;
4. time a re-run of the finished period (P3).

The output ends with one ``RESULT name=billing_run …`` line (decisions.md §10).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"

PERIOD = "2026-11"
PERIOD_START = dt.date(2026, 11, 1)
PERIOD_END = dt.date(2026, 11, 30)
SEED_BATCH = 10_000  # customers per seeding transaction
COUNTER_ID = 0  # the floor's counter account in bench_balance


# --- Command line and environment (before django.setup) -----------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, required=True, help="N customers to invoice")
    parser.add_argument(
        "--database-url",
        help="postgres://… of a server to use (a dedicated database is created there); "
        "default: a SQLite file under bench/out/",
    )
    parser.add_argument("--db-name", default="encaisse_bench", help="PostgreSQL database to use")
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument(
        "--floor-runs",
        type=int,
        default=3,
        help="times the raw-SQL floor is measured; the ratio uses the median (default 3)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="chunks at a time on PostgreSQL (default: ENCAISSE_BILLING_WORKERS, 3)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--profile", metavar="FILE", help="run the billing run under cProfile, dump stats to FILE"
    )
    parser.add_argument(
        "--sql-profile",
        action="store_true",
        help="time every SQL statement of the billing run (Django execute wrapper), print the top",
    )
    parser.add_argument(
        "--vm-steps",
        action="store_true",
        help="SQLite: count the virtual-machine instructions of the billing run (a progress "
        "handler every 1,000): the SQL work done, independent of the machine's speed",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="run with DEBUG=1 (development default) instead of production's DEBUG=0",
    )
    return parser.parse_args(argv)


def configure(args: argparse.Namespace) -> tuple[str, str]:
    """Set the environment encaisse.settings reads; return (engine, admin conninfo or db path)."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "encaisse.settings"
    os.environ["ENCAISSE_DATA_DIR"] = str(OUT_DIR / "data")
    os.environ["ENCAISSE_TASKS_BACKEND"] = "django.tasks.backends.dummy.DummyBackend"
    os.environ["ENCAISSE_RENDER_PDF"] = "0"
    os.environ["DEBUG"] = "1" if args.debug else "0"
    if args.database_url:
        parts = urlsplit(args.database_url)
        if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
            raise SystemExit("--database-url must be a postgres:// URL")
        named = parts.path.lstrip("/")
        if args.db_name in {named, "postgres", "template0", "template1"}:
            raise SystemExit(f"--db-name {args.db_name!r} would be dropped: choose a scratch name")
        admin = urlunsplit(parts._replace(path="/postgres"))
        recreate_pg_database(admin, args.db_name)
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{args.db_name}"))
        return "postgresql", admin
    path = OUT_DIR / f"billing_run-{args.customers}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    return "sqlite", str(path)


def recreate_pg_database(admin_conninfo: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_pg_database(admin_conninfo: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


# --- Small measuring helpers ---------------------------------------------------------------------


def fsync_latency_ms(directory: Path, rounds: int = 200) -> tuple[float, float]:
    """Median and 90th percentile of appending 4 KiB to a file and fsync-ing it, in ms."""
    block = os.urandom(4096)
    samples = []
    with tempfile.NamedTemporaryFile(dir=directory, prefix="fsync-") as handle:
        fd = handle.fileno()
        for _ in range(rounds):
            start = time.perf_counter()
            os.write(fd, block)
            os.fsync(fd)
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9)]


def code_under_test() -> str:
    """Where ``encaisse`` was imported from, and the commit and state of that tree's ``src``.

    The repository is shared: record what was measured (a snapshot made with ``git archive`` into a
    directory named after the commit is the safe way to measure while others edit the tree).
    """
    import subprocess

    import encaisse

    package = Path(encaisse.__file__).resolve().parent
    root = package.parent.parent

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError):
            return ""
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return f"{package} (not a git checkout)"
    dirty = git("status", "--porcelain", "--", "src/encaisse")
    state = f"{len(dirty.splitlines())} changed files in src" if dirty else "src clean"
    return f"{package} at {commit} ({state})"


def wal_written(connection: Any) -> tuple[int, int, int] | None:
    """PostgreSQL's WAL counters so far (records, full-page images, bytes): the server's write
    volume, which the run's cost follows. None on SQLite."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT wal_records, wal_fpi, wal_bytes FROM pg_stat_wal")
        records, fpi, size = cursor.fetchone()
    return int(records), int(fpi), int(size)


def server_settings(connection: Any) -> str:
    """The settings the figures depend on: PostgreSQL's memory, WAL and durability; SQLite's
    journal, durability and page cache, as Encaisse's connection sets them."""
    names = (
        ("shared_buffers", "max_wal_size", "synchronous_commit", "full_page_writes", "work_mem")
        if connection.vendor == "postgresql"
        else (
            "page_size",
            "journal_mode",
            "synchronous",
            "cache_size",
            "temp_store",
            "wal_autocheckpoint",
        )
    )
    values = []
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(
                f"SHOW {name}" if connection.vendor == "postgresql" else f"PRAGMA {name}"
            )
            values.append(f"{name}={cursor.fetchone()[0]}")
    return " ".join(values)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def cpu_seconds(connection: Any) -> tuple[float, float | None]:
    """CPU time used so far by this process and by the PostgreSQL server (None if unreadable).

    The server's is the sum over its processes, including what it reaped (``cutime``/``cstime``
    of the postmaster): the run's worker threads each have a backend, closed when they finish.
    On a shared machine the wall time moves with the load; the CPU time much less so.
    """
    mine = os.times()
    client = mine.user + mine.system
    if connection.vendor != "postgresql":
        return client, None
    server = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()
        if name == "postgres" or name.startswith("postgres:"):
            server += sum(int(v) for v in fields[11:15])
    return client, (server / os.sysconf("SC_CLK_TCK")) if server else None


@contextlib.contextmanager
def timed(label: str, sink: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    sink[label] = time.perf_counter() - start
    print(f"  {label}: {sink[label]:.2f} s (load {load_average()})", flush=True)


# --- Seeding (raw SQL: executemany, or COPY on PostgreSQL) ---------------------------------------


@dataclass
class Expected:
    """What the billing run must produce, computed while seeding (cents)."""

    customers: int = 0
    charges: int = 0
    invoiced_total: int = 0
    settled: int = 0
    fully_paid: int = 0
    partly_paid: int = 0
    unpaid: int = 0
    # (customer id, prepaid account id, amount the balance settles), for the floor
    debits: list[tuple[int, int, int]] = field(default_factory=list)


def customer_charges(i: int) -> list[tuple[str, int, int, int, int]]:
    """(description, quantity ×10⁴, unit price ×10⁴, VAT rate ×100, amount in cents)."""
    charges = [("Hébergement Pro", 10_000, 99_000, 2000, 990)]
    if i % 2 == 0:
        rate = {4: 1000, 6: 550}.get(i % 10, 2000)
        # 2.5 × 0.4990 = 1.2475 → 1.25 (line_cents rounds half-up)
        charges.append(("Nom de domaine", 25_000, 4_990, rate, 125))
    return charges


def vat_of(base: int, rate_x100: int) -> int:
    """Integer twin of core.money.vat_cents (half-up); checked against it in seed()."""
    return (base * rate_x100 + 5000) // 10000


def top_up_of(i: int, total: int) -> int:
    """Prepaid balance given to customer i: 5 % nothing, 10 % part of the invoice, 85 % enough."""
    if i % 20 == 0:
        return 0
    if i % 20 in (1, 2):
        return max(1, total // 2)
    return (2000, 5000, 10000)[i % 3]


def seed(n: int, expected: Expected) -> dict[str, int]:  # noqa: C901
    from decimal import Decimal

    from django.db import connection, transaction
    from django.utils import timezone

    from encaisse.core.money import vat_cents
    from encaisse.customers.numbers import format_number
    from encaisse.ledger.accounts import system_account
    from encaisse.ledger.models import AccountKind

    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    start, end = ops.adapt_datefield_value(PERIOD_START), ops.adapt_datefield_value(PERIOD_END)
    pg = connection.vendor == "postgresql"
    mark = "%s" if pg else "?"

    def insert(table: str, columns: str) -> str:
        count = columns.count(",") + 1
        return f"INSERT INTO {table} ({columns}) VALUES ({', '.join([mark] * count)})"

    sql_customer = insert(
        "customers_customer",
        "id, number, name, email, kind, language, address_line1, address_line2, postal_code, "
        "city, country, vat_number, siret, service_code, external_id, created_at",
    )
    sql_account = insert(
        "ledger_account",
        "id, code, kind, customer_id, currency, normal_sign, balance, floor, created_at",
    )
    sql_txn = insert(
        "ledger_ledgertransaction",
        "id, actor_kind, actor_id, actor_label, idempotency_key, kind, description, reason, "
        "created_at, customer_id, invoice_id, reverses_id",
    )
    sql_entry = insert("ledger_entry", "id, transaction_id, account_id, amount, currency")
    sql_charge = insert(
        "invoicing_charge",
        "id, actor_kind, actor_id, actor_label, customer_id, invoice_id, subscription_id, "
        "description, quantity, unit_price, vat_rate, amount, period_start, period_end, "
        "external_id, created_at",
    )
    for base, rate in ((990, 2000), (125, 550), (125, 1000), (1115, 2000), (7, 550)):
        assert vat_of(base, rate) == vat_cents(base, Decimal(rate) / 100)

    actor = ("system", "bench", "bench")
    counts = {"customers": 0, "accounts": 0, "transactions": 0, "entries": 0, "charges": 0}
    bank_id = system_account(AccountKind.BANK, "main").pk  # opened by migration ledger 0003
    # Explicit ids after whatever the migrations created (system accounts): customer i owns
    # accounts base + 2i - 1 (prepaid) and base + 2i (receivable).
    customer_base, account_base, txn_id, entry_id, charge_id = (
        max_id(connection, table)
        for table in (
            "customers_customer",
            "ledger_account",
            "ledger_ledgertransaction",
            "ledger_entry",
            "invoicing_charge",
        )
    )
    bank_total = 0
    for first in range(1, n + 1, SEED_BATCH):
        customers, accounts, txns, entries, charges = [], [], [], [], []
        for k in range(first, min(first + SEED_BATCH, n + 1)):
            i = customer_base + k
            number = format_number(i)
            customers.append(
                (
                    i,
                    number,
                    f"Client {i}",
                    f"client{i}@example.org",
                    "company" if i % 4 == 0 else "individual",
                    "fr",
                    f"{i % 200 + 1} rue de la Paix",
                    "",
                    f"{75001 + i % 20:05d}",
                    "Paris",
                    "FR",
                    "",
                    "",
                    "",
                    "",
                    now,
                )
            )
            prepaid, receivable = account_base + 2 * k - 1, account_base + 2 * k
            lines = customer_charges(i)
            bases: dict[int, int] = {}
            for description, quantity, unit_price, rate, amount in lines:
                charge_id += 1
                bases[rate] = bases.get(rate, 0) + amount
                charges.append(
                    (
                        charge_id,
                        *actor,
                        i,
                        None,
                        None,
                        description,
                        quantity,
                        unit_price,
                        rate,
                        amount,
                        start,
                        end,
                        "",
                        now,
                    )
                )
            total = sum(bases.values()) + sum(vat_of(b, r) for r, b in bases.items())
            balance = top_up_of(i, total)
            accounts.append(
                (prepaid, f"customer:{i}:prepaid", "prepaid", i, "EUR", -1, balance, 0, now)
            )
            accounts.append(
                (receivable, f"customer:{i}:receivable", "receivable", i, "EUR", 1, 0, None, now)
            )
            if balance:
                txn_id += 1
                txns.append(
                    (
                        txn_id,
                        *actor,
                        f"topup:bank_transfer:bench-{i}",
                        "top_up",
                        f"Top-up by Bank transfer: bench-{i}",
                        "",
                        now,
                        i,
                        None,
                        None,
                    )
                )
                entries.append((entry_id + 1, txn_id, bank_id, balance, "EUR"))
                entries.append((entry_id + 2, txn_id, prepaid, -balance, "EUR"))
                entry_id += 2
                bank_total += balance
            paid = min(total, balance)
            expected.customers += 1
            expected.charges += len(lines)
            expected.invoiced_total += total
            expected.settled += paid
            if paid == total:
                expected.fully_paid += 1
            elif paid:
                expected.partly_paid += 1
            else:
                expected.unpaid += 1
            if paid:
                expected.debits.append((i, prepaid, paid))
        with transaction.atomic():
            cursor = raw_cursor(connection)
            insert_rows(cursor, sql_customer, customers)
            insert_rows(cursor, sql_account, accounts)
            insert_rows(cursor, sql_txn, txns)
            insert_rows(cursor, sql_entry, entries)
            insert_rows(cursor, sql_charge, charges)
        counts["customers"] += len(customers)
        counts["accounts"] += len(accounts)
        counts["transactions"] += len(txns)
        counts["entries"] += len(entries)
        counts["charges"] += len(charges)
        if (first // SEED_BATCH) % 20 == 19:
            print(f"    seeded {counts['customers']:,} customers", flush=True)
    with transaction.atomic():
        cursor = raw_cursor(connection)
        cursor.execute(
            f"UPDATE ledger_account SET balance = balance + {mark} WHERE id = {mark}",
            (bank_total, bank_id),
        )
        if pg:
            for table in (
                "customers_customer",
                "ledger_account",
                "ledger_ledgertransaction",
                "ledger_entry",
                "invoicing_charge",
            ):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
    analyze(connection)
    return counts


def max_id(connection: Any, table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        return int(cursor.fetchone()[0])


def insert_rows(cursor: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """``executemany`` of ``sql`` on SQLite; on PostgreSQL the same rows by COPY, one statement per
    batch, so that the statement-level reference checks (``core.integrity``) run once per batch,
    as for the billing run's ``INSERT … SELECT``, not once per seeded row."""
    if not hasattr(cursor, "copy"):
        cursor.executemany(sql, rows)
        return
    head = sql.split(" VALUES ", 1)[0].replace("INSERT INTO", "COPY", 1)
    with cursor.copy(f"{head} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def raw_cursor(connection: Any) -> Any:
    """A DB-API cursor on Django's connection, without Django's wrapper.

    On PostgreSQL a server-side-binding psycopg cursor (Django's own is client-side binding), so
    ``executemany`` runs pipelined prepared statements: the fastest path short of COPY.
    """
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        import psycopg

        return psycopg.Cursor(connection.connection)
    return connection.connection.cursor()


def analyze(connection: Any) -> None:
    """PostgreSQL: fresh planner statistics, as autovacuum would give a production database.

    SQLite has no automatic ANALYZE and Encaisse does not run one: its planner works without
    statistics, as in production.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    checkpoint(connection)


def checkpoint(connection: Any) -> None:
    """Write the pages dirtied so far to the database files, so that a timed phase does not pay
    for the seeding's (PostgreSQL: a CHECKPOINT, which needs a superuser; SQLite: the WAL folded
    into the database file and truncated)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CHECKPOINT")
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --- The raw-SQL floor ---------------------------------------------------------------------------


def floor_setup(expected: Expected) -> None:
    from django.db import connection, transaction

    pg = connection.vendor == "postgresql"
    mark = "%s" if pg else "?"
    with transaction.atomic():
        cursor = raw_cursor(connection)
        for ddl in (
            "DROP TABLE IF EXISTS bench_debit",
            "DROP TABLE IF EXISTS bench_balance",
            "CREATE TABLE bench_balance (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL, "
            "floor BIGINT, amt BIGINT NOT NULL, orig BIGINT NOT NULL, "
            "CHECK (floor IS NULL OR balance >= floor))",
            "CREATE TABLE bench_debit (run_id INTEGER NOT NULL, account_id BIGINT NOT NULL, "
            "amount BIGINT NOT NULL, UNIQUE (run_id, account_id))",
        ):
            cursor.execute(ddl)
        cursor.execute(
            f"INSERT INTO bench_balance (id, balance, floor, amt, orig) "
            f"VALUES ({mark}, 0, NULL, 0, 0)",
            (COUNTER_ID,),
        )
        cursor.execute(
            "INSERT INTO bench_balance (id, balance, floor, amt, orig) "
            "SELECT id, balance, floor, 0, balance FROM ledger_account WHERE kind = 'prepaid'"
        )
        cursor.executemany(
            f"UPDATE bench_balance SET amt = {mark} WHERE id = {mark}",
            [(amount, account) for _, account, amount in expected.debits],
        )
    analyze(connection)


def floor_chunks(expected: Expected, chunk_size: int) -> list[list[tuple[int, int]]]:
    """The run's chunks (chunk_size customers each) restricted to the accounts it debits."""
    chunks: dict[int, list[tuple[int, int]]] = {}
    for customer, account, amount in expected.debits:
        chunks.setdefault((customer - 1) // chunk_size, []).append((account, amount))
    return [chunks[k] for k in sorted(chunks)]


def floor_rowwise(chunks: list[list[tuple[int, int]]], run_id: int) -> float:
    """The brief's floor: per chunk one transaction, executemany of the debit rows and guarded
    updates (``WHERE id = ? AND balance - x >= floor``), one aggregated counter update."""
    from django.db import connection, transaction

    mark = "%s" if connection.vendor == "postgresql" else "?"
    ins = f"INSERT INTO bench_debit (run_id, account_id, amount) VALUES ({mark}, {mark}, {mark})"
    upd = (
        f"UPDATE bench_balance SET balance = balance - {mark} WHERE id = {mark} "
        f"AND (floor IS NULL OR balance - {mark} >= floor)"
    )
    counter = f"UPDATE bench_balance SET balance = balance + {mark} WHERE id = {mark}"
    start = time.perf_counter()
    for chunk in chunks:
        with transaction.atomic():
            cursor = raw_cursor(connection)
            cursor.executemany(ins, [(run_id, account, amount) for account, amount in chunk])
            cursor.executemany(upd, [(amount, account, amount) for account, amount in chunk])
            if cursor.rowcount != len(chunk):
                raise AssertionError("floor: a guarded debit did not apply")
            cursor.execute(counter, (sum(amount for _, amount in chunk), COUNTER_ID))
    return time.perf_counter() - start


def floor_setbased(chunks: list[list[tuple[int, int]]], run_id: int) -> float:
    """Lower still: per chunk one INSERT … SELECT and one UPDATE over the id range (no per-row
    statements at all), plus the aggregated counter update."""
    from django.db import connection, transaction

    mark = "%s" if connection.vendor == "postgresql" else "?"
    ins = (
        f"INSERT INTO bench_debit (run_id, account_id, amount) SELECT {mark}, id, amt "
        f"FROM bench_balance WHERE id BETWEEN {mark} AND {mark} AND amt > 0"
    )
    upd = (
        f"UPDATE bench_balance SET balance = balance - amt WHERE id BETWEEN {mark} AND {mark} "
        "AND amt > 0 AND (floor IS NULL OR balance - amt >= floor)"
    )
    counter = (
        f"UPDATE bench_balance SET balance = balance + (SELECT SUM(amount) FROM bench_debit "
        f"WHERE run_id = {mark} AND account_id BETWEEN {mark} AND {mark}) WHERE id = {mark}"
    )
    start = time.perf_counter()
    for chunk in chunks:
        lo, hi = chunk[0][0], chunk[-1][0]
        with transaction.atomic():
            cursor = raw_cursor(connection)
            cursor.execute(ins, (run_id, lo, hi))
            cursor.execute(upd, (lo, hi))
            if cursor.rowcount != len(chunk):
                raise AssertionError("floor: a guarded debit did not apply")
            cursor.execute(counter, (run_id, lo, hi, COUNTER_ID))
    return time.perf_counter() - start


def measure_floors(
    expected: Expected, chunks: list[list[tuple[int, int]]], runs: int
) -> tuple[list[float], float]:
    """The executemany floor ``runs`` times from the same state, then the set-based one."""
    from django.db import connection

    floors = []
    for run_id in range(1, runs + 1):
        checkpoint(connection)
        floors.append(floor_rowwise(chunks, run_id=run_id))
        floor_verify(expected, run_id)
        floor_reset()
    checkpoint(connection)
    setbased = floor_setbased(chunks, run_id=runs + 1)
    floor_verify(expected, runs + 1)
    return floors, setbased


def floor_reset() -> None:
    from django.db import connection, transaction

    with transaction.atomic():
        cursor = raw_cursor(connection)
        cursor.execute("UPDATE bench_balance SET balance = orig")
        cursor.execute("DELETE FROM bench_debit")


def floor_verify(expected: Expected, run_id: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM bench_debit WHERE run_id = %s",
            [run_id],
        )
        rows, total = cursor.fetchone()
        cursor.execute("SELECT balance FROM bench_balance WHERE id = %s", [COUNTER_ID])
        (counter,) = cursor.fetchone()
    if rows != len(expected.debits) or total != expected.settled or counter != total:
        raise AssertionError(f"floor run {run_id}: {rows} rows, {total} cents, counter {counter}")


# --- The billing run -----------------------------------------------------------------------------


class SqlProfile:
    """Wall time and rows per SQL statement shape, through ``connection.execute_wrapper``."""

    def __init__(self) -> None:
        self.stats: dict[str, list[float]] = {}

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = ("many: " if many else "") + " ".join(sql.split())[:110]
            stat = self.stats.setdefault(key, [0.0, 0, 0])
            stat[0] += time.perf_counter() - start
            stat[1] += 1
            stat[2] += len(params) if many else 1

    @contextlib.contextmanager
    def commits(self, connection: Any) -> Iterator[None]:
        """Also time COMMIT (deferred constraint checks run there on PostgreSQL)."""
        original = connection.commit

        def commit() -> None:
            start = time.perf_counter()
            try:
                original()
            finally:
                stat = self.stats.setdefault("COMMIT", [0.0, 0, 0])
                stat[0] += time.perf_counter() - start
                stat[1] += 1
                stat[2] += 1

        connection.commit = commit
        try:
            yield
        finally:
            del connection.commit

    def report(self, total: float, top: int = 15) -> None:
        spent = sum(stat[0] for stat in self.stats.values())
        print(f"  SQL profile: {spent:.2f} s in statements and commits of {total:.2f} s")
        ranked = sorted(self.stats.items(), key=lambda item: -item[1][0])[:top]
        for key, (seconds, calls, rows) in ranked:
            print(f"    {seconds:7.2f} s {calls:6d} calls {rows:9,d} rows  {key}")


VM_STEP = 1000  # SQLite VM instructions per progress-handler call (``--vm-steps``)


@contextlib.contextmanager
def counting_vm_steps(connection: Any, counter: list[int]) -> Iterator[None]:
    """Count, in ``counter[0]``, the thousands of SQLite VM instructions run meanwhile: a figure
    of the SQL work that does not depend on the machine's speed nor on its other load."""

    def step() -> int:
        counter[0] += 1
        return 0  # go on

    connection.ensure_connection()
    connection.connection.set_progress_handler(step, VM_STEP)
    try:
        yield
    finally:
        connection.connection.set_progress_handler(None, 0)


def billing_run(
    chunk_size: int,
    workers: int,
    profile: str | None = None,
    sql_profile: SqlProfile | None = None,
    vm_steps: list[int] | None = None,
) -> tuple[Any, float]:
    from django.db import connection

    from encaisse.core.actors import Actor
    from encaisse.invoicing import billing

    actor = Actor.system("bench")
    done = [0]

    def progress(chunk: Any) -> None:
        done[0] += 1
        if done[0] % 100 == 0:
            print(f"    {done[0]} chunks done (load {load_average()})", flush=True)

    profiler = cProfile.Profile() if profile else None
    with contextlib.ExitStack() as stack:
        if sql_profile:
            stack.enter_context(connection.execute_wrapper(sql_profile))
            stack.enter_context(sql_profile.commits(connection))
        if vm_steps is not None:
            stack.enter_context(counting_vm_steps(connection, vm_steps))
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        run = billing.start_run(PERIOD, actor=actor, chunk_size=chunk_size)
        summary = billing.process_run(run, actor=actor, progress=progress, workers=workers)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - start
    if profiler and profile:
        profiler.dump_stats(profile)
    return summary, elapsed


def report_profiles(
    seconds: float, sql_profile: SqlProfile | None, vm_steps: list[int] | None
) -> None:
    if sql_profile:
        sql_profile.report(seconds)
    if vm_steps is not None:
        print(f"    SQLite VM instructions: {vm_steps[0] * VM_STEP:,}")


def rows_written(run_id: int) -> dict[str, int]:
    """Rows the run inserted or updated (balance updates counted once per row touched)."""
    from django.db import connection

    with connection.cursor() as cursor:

        def one(sql: str, params: Sequence[object] = ()) -> int:
            cursor.execute(sql, list(params))
            return int(cursor.fetchone()[0])

        invoices = one("SELECT COUNT(*) FROM invoicing_invoice WHERE billing_run_id = %s", [run_id])
        rows = {
            "invoices": invoices,
            "charges": one(
                "SELECT COUNT(*) FROM invoicing_charge c JOIN invoicing_invoice i "
                "ON i.id = c.invoice_id WHERE i.billing_run_id = %s",
                [run_id],
            ),
            "transactions": one(
                "SELECT COUNT(*) FROM ledger_ledgertransaction t JOIN invoicing_invoice i "
                "ON i.id = t.invoice_id WHERE i.billing_run_id = %s",
                [run_id],
            ),
            "entries": one(
                "SELECT COUNT(*) FROM ledger_entry e JOIN ledger_ledgertransaction t "
                "ON t.id = e.transaction_id JOIN invoicing_invoice i ON i.id = t.invoice_id "
                "WHERE i.billing_run_id = %s",
                [run_id],
            ),
            "balances": one(
                "SELECT SUM(CASE WHEN paid > 0 THEN 1 ELSE 0 END) "
                "+ SUM(CASE WHEN paid < total_incl_vat THEN 1 ELSE 0 END) "
                "FROM invoicing_invoice WHERE billing_run_id = %s",
                [run_id],
            ),
            "chunks": one(
                "SELECT COUNT(*) FROM invoicing_billingrunchunk WHERE run_id = %s", [run_id]
            ),
        }
    return rows


def verify(summary: Any, expected: Expected) -> None:
    from django.db import connection

    from encaisse.ledger.selectors import check_ledger

    report = check_ledger()
    if not report.ok:
        raise AssertionError(f"check_ledger() after the run: {report}")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(DISTINCT customer_id) FROM invoicing_charge WHERE period_start <= %s",
            [connection.ops.adapt_datefield_value(PERIOD_END)],
        )
        (with_charges,) = cursor.fetchone()
        cursor.execute(
            "SELECT COUNT(*), SUM(total_incl_vat), SUM(paid), "
            "SUM(CASE WHEN paid = total_incl_vat THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN paid > 0 AND paid < total_incl_vat THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN paid = 0 THEN 1 ELSE 0 END) "
            "FROM invoicing_invoice WHERE billing_run_id = %s",
            [summary.run.pk],
        )
        got = tuple(int(v or 0) for v in cursor.fetchone())
        cursor.execute("SELECT COUNT(*) FROM invoicing_charge WHERE invoice_id IS NULL")
        (left,) = cursor.fetchone()
    want = (
        with_charges,
        expected.invoiced_total,
        expected.settled,
        expected.fully_paid,
        expected.partly_paid,
        expected.unpaid,
    )
    if summary.invoices != with_charges or got != want or left:
        raise AssertionError(f"run produced {got} (summary {summary.invoices}), expected {want}")
    print(
        f"  verified: check_ledger ok ({report.transactions:,} transactions, "
        f"{report.entries:,} entries); {got[0]:,} invoices = customers with charges; "
        f"{got[3]:,} paid, {got[4]:,} partly paid, {got[5]:,} unpaid; "
        f"settled {got[2] / 100:,.2f} of {got[1] / 100:,.2f}"
    )


# --- Main ----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    engine, where = configure(args)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from encaisse.ledger.selectors import check_ledger

    n, chunk_size = args.customers, args.chunk_size
    workers = 1 if engine == "sqlite" else (args.workers or settings.ENCAISSE_BILLING_WORKERS)
    if args.sql_profile and workers > 1:
        raise SystemExit("--sql-profile times one connection: use it with --workers 1")
    fsync_median, fsync_p90 = fsync_latency_ms(OUT_DIR)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if engine == "sqlite" else "SHOW server_version")
        db_version = cursor.fetchone()[0]
    print(
        f"billing_run: engine={engine} ({db_version}) n={n:,} chunk={chunk_size} workers={workers} "
        f"django={django.get_version()} python={platform.python_version()} "
        f"cpus={os.cpu_count()} debug={int(args.debug)}"
    )
    print(f"  database: {os.environ['DATABASE_URL']}")
    print(f"  code: {code_under_test()}")
    print(f"  fsync 4 KiB append: median {fsync_median:.3f} ms, p90 {fsync_p90:.3f} ms")
    print(f"  server settings: {server_settings(connection)}")
    print(f"  load average at start: {load_average()}", flush=True)

    t: dict[str, float] = {}
    with timed("migrate", t):
        call_command("migrate", verbosity=0, interactive=False)
    expected = Expected()
    with timed("seed", t):
        counts = seed(n, expected)
    print("  seeded: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))

    with timed("check_ledger (P8, seeded ledger)", t):
        report = check_ledger()
    if not report.ok:
        raise AssertionError(f"seeded ledger does not check: {report}")
    check_seconds = t["check_ledger (P8, seeded ledger)"]

    floor_setup(expected)
    chunks = floor_chunks(expected, chunk_size)
    floors, setbased_seconds = measure_floors(expected, chunks, args.floor_runs)
    floor_seconds = statistics.median(floors)
    debits = len(expected.debits)
    each = ", ".join(f"{f:.2f}" for f in floors)
    print(
        f"  floor (executemany, guarded, {len(chunks)} chunks): {floor_seconds:.2f} s "
        f"= {debits / floor_seconds:,.0f} debits/s, median of {len(floors)} ({each} s) "
        f"(load {load_average()})"
    )
    print(
        f"  floor (set-based, one statement per table and chunk): {setbased_seconds:.2f} s "
        f"= {debits / setbased_seconds:,.0f} debits/s",
        flush=True,
    )

    checkpoint(connection)
    print("  billing run …", flush=True)
    sql_profile = SqlProfile() if args.sql_profile else None
    client_before, server_before = cpu_seconds(connection)
    wal_before = wal_written(connection)
    vm_steps = [0] if args.vm_steps and engine == "sqlite" else None
    summary, seconds = billing_run(chunk_size, workers, args.profile, sql_profile, vm_steps)
    client_after, server_after = cpu_seconds(connection)
    wal_after = wal_written(connection)
    rows = rows_written(summary.run.pk)
    written = sum(rows.values())
    print(
        f"  billing run: {summary.invoices:,} invoices in {seconds:.2f} s = "
        f"{summary.invoices / seconds:,.0f} invoices/s; {written:,} rows written "
        f"= {written / seconds:,.0f} rows/s (load {load_average()})"
    )
    print("    rows: " + ", ".join(f"{v:,} {k}" for k, v in rows.items()))
    cpu = f"    CPU: {client_after - client_before:.2f} s Python process"
    if server_before is not None and server_after is not None:
        cpu += f", {server_after - server_before:.2f} s PostgreSQL server"
    print(cpu + f" (wall {seconds:.2f} s)")
    if wal_before is not None and wal_after is not None:
        records, fpi, size = (
            after - before for after, before in zip(wal_after, wal_before, strict=True)
        )
        print(f"    WAL: {records:,} records, {fpi:,} full-page images, {size / 2**20:,.0f} MiB")
    report_profiles(seconds, sql_profile, vm_steps)
    print(f"    summary: total {summary.total}, settled {summary.settled}")
    with timed("verify", t):
        verify(summary, expected)
    with timed("check_ledger (after the run)", t):
        check_ledger()

    from encaisse.core.actors import Actor
    from encaisse.invoicing import billing

    start = time.perf_counter()
    replay = billing.process_run(
        billing.start_run(PERIOD, actor=Actor.system("bench"), chunk_size=chunk_size),
        actor=Actor.system("bench"),
    )
    replay_seconds = time.perf_counter() - start
    if replay.invoices or replay.run.pk == summary.run.pk or not check_ledger().ok:
        raise AssertionError(f"re-run of the finished period invoiced again: {replay}")
    print(
        f"  re-run of {PERIOD} (P3): {replay_seconds:.3f} s, 0 invoices "
        f"({replay_seconds / seconds:.1%} of the run)"
    )

    ratio = seconds / floor_seconds
    print(
        f"  ratio to the floor: {ratio:.1f}× (executemany), "
        f"{seconds / setbased_seconds:.1f}× (set-based)"
    )
    print(f"  load average at end: {load_average()}")
    connection.close()
    if not args.keep:
        if engine == "postgresql":
            drop_pg_database(where, args.db_name)
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{where}{suffix}").unlink(missing_ok=True)
    print(
        f"RESULT name=billing_run engine={engine} n={n} seconds={seconds:.2f} "
        f"floor_seconds={floor_seconds:.2f} ratio={ratio:.1f} "
        f"invoices_per_s={summary.invoices / seconds:.0f} replay_seconds={replay_seconds:.3f} "
        f"check_seconds={check_seconds:.3f} workers={workers}"
        + (f" vm_instructions={vm_steps[0] * VM_STEP}" if vm_steps is not None else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
