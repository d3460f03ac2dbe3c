# SPDX-License-Identifier: AGPL-3.0-or-later
"""Load test of the customer panel, served as production serves it (gunicorn, DEBUG off).

    .venv/bin/python bench/panel_load.py                       # SQLite, 20 users, 5,000 requests
    .venv/bin/python bench/panel_load.py --workers 3 --threads 1
    .venv/bin/python bench/panel_load.py --database-url postgres://postgres@127.0.0.1:5432/postgres

1. seed the demo (``encaisse demo --no-serve --customers 50 --pdf-months 0``) into a fresh data
   directory (``--data-dir``, default a temporary one; with ``--database-url`` a dedicated
   PostgreSQL database ``--db-name`` that is created and dropped again);
2. give ``--users`` demo customers a panel login (``create_panel_login``, Django set up in this
   process against the same database) and note one invoice of each;
3. start gunicorn on 127.0.0.1 (``DEBUG=0``; ``ENCAISSE_ENV`` stays ``development`` unless
   ``--production``, which sets a secret key, the allowed host, no HTTPS redirect and runs
   ``collectstatic``), wait for ``/healthz``;
4. ``--users`` client threads each sign in once through the form (GET for the CSRF token, POST),
   then loop over the panel pages (dashboard, invoices, one invoice, payment methods, settings,
   movements), each starting at a different page, with no think time (a closed loop: the harshest
   reading of "20 concurrent users"), until exactly ``--requests`` page requests have been made in
   total. A new TCP connection per request (gunicorn's sync workers close it after each response).
   Only a 200 counts as a success: a redirect to the sign-in page is an error;
5. print p50/p95/p99/max per page and overall, requests per second, errors, the load average
   before and after, the CPU seconds of gunicorn's workers and of this process, and end with one
   ``RESULT name=panel_load …`` line.

Sign-ins are timed apart (they hash a password on purpose and are not part of the page loop).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("dashboard", "invoices", "invoice", "payment_methods", "settings", "movements")
PASSWORD = "bench-panel-password"  # throw-away logins of a throw-away database
HOST = "127.0.0.1"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=50, help="demo customers to seed")
    parser.add_argument("--users", type=int, default=20, help="concurrent signed-in customers")
    parser.add_argument("--requests", type=int, default=5000, help="page requests in total")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--data-dir", type=Path, help="data directory (default: a temporary one)")
    parser.add_argument("--database-url", help="postgres://… server to use instead of SQLite")
    parser.add_argument("--db-name", default="encaisse_panel_bench", help="PostgreSQL database")
    parser.add_argument("--production", action="store_true", help="ENCAISSE_ENV=production")
    parser.add_argument("--keep", action="store_true", help="keep the data directory / database")
    return parser.parse_args(argv)


# --- Environment, database, server ------------------------------------------------------------------


@dataclass
class Setup:
    engine: str
    data_dir: Path
    env: dict[str, str]
    admin_conninfo: str | None = None
    db_name: str | None = None
    temporary: bool = False


def prepare(args: argparse.Namespace) -> Setup:
    temporary = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="panel-load-")) if temporary else args.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ENCAISSE_", "DATABASE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"))
    }
    env = {
        **keep,
        "DJANGO_SETTINGS_MODULE": "encaisse.settings",
        "ENCAISSE_DATA_DIR": str(data_dir),
        "ENCAISSE_TASKS_BACKEND": "django.tasks.backends.dummy.DummyBackend",
        "ENCAISSE_RENDER_PDF": "0",
        "DEBUG": "0",
    }
    setup = Setup("sqlite", data_dir, env, temporary=temporary)
    if args.database_url:
        parts = urlsplit(args.database_url)
        if parts.scheme not in {"postgres", "postgresql"}:
            raise SystemExit("--database-url must be a postgres:// URL")
        if args.db_name in {parts.path.lstrip("/"), "postgres", "template0", "template1"}:
            raise SystemExit(f"--db-name {args.db_name!r} would be dropped: choose a scratch name")
        setup.engine, setup.db_name = "postgresql", args.db_name
        setup.admin_conninfo = urlunsplit(parts._replace(path="/postgres"))
        _pg(setup.admin_conninfo, f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
        _pg(setup.admin_conninfo, f'CREATE DATABASE "{args.db_name}"')
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{args.db_name}"))
    return setup


def _pg(conninfo: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type] - constant DDL with a checked name


def production_env(setup: Setup) -> None:
    """What production sets (README): a secret key, the host, collected static files."""
    setup.env.update(
        ENCAISSE_ENV="production",
        SECRET_KEY="bench-" + os.urandom(24).hex(),
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="0",  # no TLS terminator in front of this benchmark
    )
    # Production refuses to start without an explicit database: the SQLite file it used so far.
    setup.env.setdefault("DATABASE_URL", f"sqlite:///{setup.data_dir / 'encaisse.sqlite3'}")
    encaisse(setup, "collectstatic", "--noinput", "-v", "0")


def encaisse(setup: Setup, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "encaisse.cli", *args],
        env=setup.env,
        cwd=setup.data_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"encaisse {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def create_logins(setup: Setup, users: int) -> list[tuple[str, int]]:
    """``users`` demo customers get a panel login; (e-mail, one of their invoices' pk) each."""
    os.environ.update(setup.env)
    import django

    django.setup()
    from django.db import connection

    from encaisse.core.actors import Actor
    from encaisse.customers.models import Customer, CustomerLogin
    from encaisse.customers.services import create_panel_login
    from encaisse.invoicing.models import Invoice

    actor, logins = Actor.system("bench"), []
    customers = Customer.objects.filter(external_id__startswith="demo:").order_by("pk")[:users]
    for index, customer in enumerate(customers):
        address = f"bench{index:02d}@load.example"
        if not CustomerLogin.objects.filter(user__username=address).exists():
            create_panel_login(customer, address, actor=actor, password=PASSWORD)
        invoice = Invoice.objects.filter(customer=customer).order_by("-pk").first()
        assert invoice is not None, f"{customer} has no invoice"
        logins.append((address, invoice.pk))
    connection.close()
    if len(logins) < users:
        raise SystemExit(f"only {len(logins)} demo customers for {users} users")
    return logins


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def start_gunicorn(setup: Setup, args: argparse.Namespace, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gunicorn", "encaisse.wsgi", "-b", f"{HOST}:{port}"]
    command += ["--workers", str(args.workers), "--threads", str(args.threads)]
    command += ["--no-control-socket", "--log-level", "warning"]
    log = (setup.data_dir / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        command, env=setup.env, cwd=setup.data_dir, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited: see {setup.data_dir / 'gunicorn.log'}")
        try:
            if request(port, "GET", "/healthz").status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def workers_cpu_seconds(arbiter: int) -> float:
    """User + system CPU seconds of the arbiter's children (the workers) so far."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == arbiter:  # field 4 (ppid), after the command name
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


# --- The HTTP client ----------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def request(
    port: int,
    method: str,
    path: str,
    *,
    cookies: dict[str, str] | None = None,
    form: dict | None = None,
) -> Response:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Host": f"{HOST}:{port}", "Connection": "close", "Accept-Language": "fr"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Referer"] = f"http://{HOST}:{port}{path}"
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        return Response(answer.status, answer.getheaders(), answer.read())
    finally:
        connection.close()


def remember_cookies(response: Response, cookies: dict[str, str]) -> None:
    for name, value in response.headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            cookies[key.strip()] = rest.split(";", 1)[0]


@dataclass
class Client:
    email: str
    invoice: int
    cookies: dict[str, str] = field(default_factory=dict)

    def sign_in(self, port: int) -> None:
        page = request(port, "GET", "/panel/login/")
        remember_cookies(page, self.cookies)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token, "no CSRF token on the sign-in page"
        form = {
            "csrfmiddlewaretoken": token.group(1).decode(),
            "username": self.email,
            "password": PASSWORD,
            "next": "/panel/",
        }
        answer = request(port, "POST", "/panel/login/", cookies=self.cookies, form=form)
        remember_cookies(answer, self.cookies)
        if answer.status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"sign-in of {self.email} failed: {answer.status}")

    def path(self, page: str) -> str:
        return {
            "dashboard": "/panel/",
            "invoices": "/panel/invoices/",
            "invoice": f"/panel/invoices/{self.invoice}/",
            "payment_methods": "/panel/payment-methods/",
            "settings": "/panel/payment-methods/settings/",
            "movements": "/panel/movements/",
        }[page]


@dataclass
class Sample:
    page: str
    ms: float
    ok: bool
    error: str = ""


def run_load(port: int, clients: list[Client], total: int) -> tuple[list[Sample], float]:
    tickets = itertools.count()
    lock = threading.Lock()
    samples: list[Sample] = []
    start_gate = threading.Barrier(len(clients) + 1)

    def user(index: int, client: Client) -> None:
        mine: list[Sample] = []
        pages = itertools.islice(itertools.cycle(PAGES), index % len(PAGES), None)
        start_gate.wait()
        for page in pages:
            with lock:
                if next(tickets) >= total:
                    break
            started = time.perf_counter()
            try:
                answer = request(port, "GET", client.path(page), cookies=client.cookies)
                ok, error = answer.status == 200, "" if answer.status == 200 else str(answer.status)
            except OSError as exc:
                ok, error = False, type(exc).__name__
            mine.append(Sample(page, (time.perf_counter() - started) * 1000, ok, error))
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=user, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return samples, time.perf_counter() - began


# --- Report ---------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0–100) of already sorted values."""
    rank = max(1, round(q / 100 * len(values) + 0.5))
    return values[min(rank, len(values)) - 1]


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def code_under_test() -> str:
    def git(*args: str) -> str:
        command = ["git", "-C", str(ROOT), *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    dirty = git("status", "--porcelain", "--", "src/encaisse")
    state = f"{len(dirty.splitlines())} changed files in src" if dirty else "src clean"
    return f"{git('rev-parse', '--short', 'HEAD')} ({state})"


def report(samples: list[Sample], seconds: float, args: argparse.Namespace, engine: str) -> str:
    by_page: dict[str, list[float]] = defaultdict(list)
    for sample in samples:
        by_page[sample.page].append(sample.ms)
    print(f"\n{'page':<16}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'mean':>9}")
    for page in [*PAGES, "ALL"]:
        values = [s.ms for s in samples] if page == "ALL" else by_page[page]
        figures = summary(values)
        print(
            f"{page:<16}{figures['n']:>6}{figures['p50']:>9.1f}{figures['p95']:>9.1f}"
            f"{figures['p99']:>9.1f}{figures['max']:>9.1f}{figures['mean']:>9.1f}"
        )
    errors = [s for s in samples if not s.ok]
    if errors:
        kinds = defaultdict(int)
        for sample in errors:
            kinds[f"{sample.page}:{sample.error}"] += 1
        print("errors:", dict(kinds))
    overall = summary([s.ms for s in samples])
    return (
        f"RESULT name=panel_load engine={engine} n={len(samples)} concurrency={args.users} "
        f"workers={args.workers} threads={args.threads} p50_ms={overall['p50']:.1f} "
        f"p95_ms={overall['p95']:.1f} p99_ms={overall['p99']:.1f} max_ms={overall['max']:.1f} "
        f"rps={len(samples) / seconds:.1f} errors={len(errors)}"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    setup = prepare(args)
    print(
        f"machine: {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"code: {code_under_test()}; database: {setup.engine}; data dir: {setup.data_dir}")
    server = None
    try:
        started = time.monotonic()
        encaisse(
            setup, "demo", "--no-serve", "--customers", str(args.customers), "--pdf-months", "0"
        )
        logins = create_logins(setup, args.users)
        print(
            f"seeded {args.customers} customers, {len(logins)} logins in {time.monotonic() - started:.1f} s"
        )
        if args.production:
            production_env(setup)
        port = free_port()
        server = start_gunicorn(setup, args, port)
        mode = "production" if args.production else "development, DEBUG=0"
        print(
            f"gunicorn: {args.workers} sync workers × {args.threads} threads ({mode}), port {port}"
        )

        clients = [Client(email, invoice) for email, invoice in logins]
        began = time.perf_counter()
        for client in clients:
            client.sign_in(port)
        each = (time.perf_counter() - began) / len(clients) * 1000
        print(f"{len(clients)} sign-ins (one at a time): {each:.0f} ms each")

        load_before, cpu_before = load_average(), workers_cpu_seconds(server.pid)
        own_before = time.process_time()
        samples, seconds = run_load(port, clients, args.requests)
        cpu = workers_cpu_seconds(server.pid) - cpu_before
        own = time.process_time() - own_before
        print(f"{len(samples)} requests in {seconds:.1f} s by {len(clients)} users")
        print(f"load average before: {load_before}; after: {load_average()}")
        print(
            f"CPU: gunicorn workers {cpu:.1f} s ({cpu / len(samples) * 1000:.1f} ms per request), "
            f"load client {own:.1f} s"
        )
        print(report(samples, seconds, args, setup.engine))
    finally:
        if server is not None:
            stop(server)
        if setup.admin_conninfo and not args.keep:
            _pg(setup.admin_conninfo, f'DROP DATABASE IF EXISTS "{setup.db_name}" WITH (FORCE)')
        if setup.temporary and not args.keep:
            shutil.rmtree(setup.data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
