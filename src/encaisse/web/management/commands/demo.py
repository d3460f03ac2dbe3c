# SPDX-License-Identifier: AGPL-3.0-or-later
"""``encaisse demo``: migrate, seed a demo hosting company once, then serve it.

One command for a first look: it applies migrations, creates the demo data if missing (see
``encaisse.web.demo``), makes sure the demo staff login works, prints where to go, then runs the
background worker (``encaisse worker``: tasks and periodic passes, a child process) and the
development web server on 127.0.0.1:8000 until Ctrl-C, stopping the worker with it.
``--no-serve`` seeds and exits (tests). It refuses to run in production: it creates a
superuser whose password is public.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from itertools import batched
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from encaisse.core.actors import Actor
from encaisse.customers.models import CustomerLogin
from encaisse.customers.services import create_panel_login
from encaisse.invoicing.models import Invoice
from encaisse.invoicing.tasks import render_invoice_pdfs
from encaisse.web import demo

USERNAME = "admin"
BACKLOG_PRIORITY = -50  # below the default 0 of every other task
PASSWORD = "encaisse-demo"  # noqa: S105 - the demo's public login, refused in production
CUSTOMER_EMAIL = "client@demo.example"
CUSTOMER_PASSWORD = "encaisse-client"  # noqa: S105 - the demo customer's public login


class Command(BaseCommand):
    help = "Create the demo hosting company if missing, then serve the back-office and the worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="seed, print and exit")
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port to serve on")
        parser.add_argument("--customers", type=int, default=50, help="number of customers")
        parser.add_argument(
            "--pdf-months", type=int, default=3, help="months of invoices rendered as PDF now"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "The demo creates a superuser with a public password: not in production."
            )
        self._migrate()
        result = demo.seed(
            customers=options["customers"], pdf_months=options["pdf_months"], log=self.stdout.write
        )
        self._ensure_staff_user()
        if result.panel_customer is not None:
            self._ensure_customer_login(result.panel_customer)
        self._report(result, options["addr"])
        if not options["no_serve"]:
            self._serve(options["addr"])

    def _migrate(self) -> None:
        """Apply missing migrations only: ``migrate`` itself would also rerun post-migrate hooks."""
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.stdout.write("Applying database migrations…")
            call_command("migrate", interactive=False, verbosity=0)

    def _ensure_staff_user(self) -> None:
        """The printed login must work: create it, or reset it if someone changed it."""
        user, created = get_user_model().objects.get_or_create(
            username=USERNAME, defaults={"email": "admin@example.invalid"}
        )
        ready = user.is_staff and user.is_superuser and user.is_active
        if created or not ready or not user.check_password(PASSWORD):
            user.is_staff = user.is_superuser = user.is_active = True
            user.set_password(PASSWORD)
            user.save()

    def _ensure_customer_login(self, customer: Any) -> None:
        """The example customer's panel login, with the printed password."""
        login = CustomerLogin.objects.filter(user__username=CUSTOMER_EMAIL).first()
        if login is None:
            login = create_panel_login(
                customer, CUSTOMER_EMAIL, actor=Actor.system("demo"), password=CUSTOMER_PASSWORD
            )
        elif not login.user.check_password(CUSTOMER_PASSWORD) or not login.user.is_active:
            login.user.is_active = True
            login.user.set_password(CUSTOMER_PASSWORD)
            login.user.save()

    def _report(self, result: demo.DemoResult, addr: str) -> None:
        if result.created:
            self.stdout.write(self.style.SUCCESS(f"Demo data created in {result.seconds:.1f} s."))
        else:
            self.stdout.write("Demo data already present: nothing created.")
        example = result.example
        lines = [
            f"  {result.customers} customers, {result.invoices} invoices "
            f"({result.open_invoices} still due).",
            f"  Back-office:  http://{addr}/admin/",
            f"  Login:        {USERNAME} / {PASSWORD}",
            "  Second factor: "
            + (
                f"ON — enrol an authenticator app with `encaisse totp enroll {USERNAME}`"
                if settings.ENCAISSE_STAFF_2FA
                else "OFF for this demo (ENCAISSE_STAFF_2FA=0); production always requires it"
            ),
            f"  API docs:     http://{addr}/api/v1/docs",
        ]
        if example is not None:
            lines += [
                f"  Example customer: {example.number} ({example.name}), "
                f"http://{addr}/admin/customers/customer/{example.pk}/change/",
            ]
        panel = result.panel_customer
        if panel is not None:
            lines += [
                f"  Customer panel: http://{addr}/panel/ ({panel.number}, {panel.name})",
                f"  Login:        {CUSTOMER_EMAIL} / {CUSTOMER_PASSWORD}",
            ]
        self.stdout.write("\n".join(lines))

    def _serve(self, addr: str) -> None:
        host, _, port = addr.rpartition(":")
        _check_free(host or "127.0.0.1", int(port))
        worker = self._start_worker()
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        self.stdout.write("Serving; press Ctrl-C to stop the web server and the worker.")
        try:
            call_command("runserver", addr, use_reloader=False, insecure_serving=True)
        finally:
            signal.signal(signal.SIGTERM, previous)
            _stop(worker)

    def _start_worker(self) -> subprocess.Popen[bytes]:
        """The worker renders the remaining PDFs and runs the billing runs started from /admin/.

        The PDF backlog goes at a low priority, so a billing run started by staff meanwhile
        does not wait behind a minute of rendering.
        """
        missing = Invoice.objects.filter(pdf="").order_by("-pk").values_list("pk", flat=True)
        backlog = render_invoice_pdfs.using(priority=BACKLOG_PRIORITY)
        for ids in batched(missing, 50):
            backlog.enqueue(list(ids))
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE}
        command = [sys.executable, "-m", "encaisse.cli", "worker", "--no-reload"]
        return subprocess.Popen(command, env=env)  # noqa: S603 - our own interpreter and module


def _check_free(host: str, port: int) -> None:
    """runserver exits the process on a busy port, which would orphan the worker: check first."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"{host}:{port} is busy ({exc}); try --addr {host}:{port + 1}"
            ) from exc


def _exit_on_sigterm(signum: int, frame: object) -> None:
    sys.exit(0)  # unwinds to the ``finally`` that stops the worker


def _stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.terminate()
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
