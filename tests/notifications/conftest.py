# SPDX-License-Identifier: AGPL-3.0-or-later
"""Helpers of the e-mail tests: notifications on, a mail server that stalls, real concurrency.

Concurrency needs real threads, each with its own connection, seeing each other's commits
(:func:`shared_database`). PostgreSQL gives that with ``transaction=True``; SQLite's test
database lives in memory, where connections share a cache with table locks instead of the file
locks, WAL and ``BEGIN IMMEDIATE`` of production, so the test runs on a file copy.
"""

from __future__ import annotations

import shutil
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import concurrency
import pytest
from django.db import connection, connections

JOIN_TIMEOUT = 120  # seconds; the machine may be busy


@pytest.fixture
def notifying(settings):
    settings.ENCAISSE_EMAIL_NOTIFICATIONS = True
    settings.ENCAISSE_PUBLIC_URL = "https://billing.example"


@pytest.fixture
def restore_signals() -> Iterator[None]:
    """``encaisse worker`` installs its own SIGINT/SIGTERM handlers: put pytest's back."""
    names = [name for name in ("SIGINT", "SIGTERM", "SIGQUIT") if hasattr(signal, name)]
    saved = {name: signal.getsignal(getattr(signal, name)) for name in names}
    yield
    for name, handler in saved.items():
        signal.signal(getattr(signal, name), handler)


@pytest.fixture(scope="session")
def sqlite_template(django_db_setup, django_db_blocker, tmp_path_factory) -> Path | None:
    """The migrated, empty SQLite test database copied to a file once, before any test opens a
    transaction in it (a copy cannot be taken from inside one)."""
    if connection.vendor != "sqlite":
        return None
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    with django_db_blocker.unblock(), closing(sqlite3.connect(path)) as target:
        connection.ensure_connection()
        connection.connection.backup(target)
    return path


@pytest.fixture
def shared_database(sqlite_template, db, tmp_path) -> Iterator[None]:
    """A database whose commits every thread sees. Mark the test
    ``django_db(transaction=ON_POSTGRESQL)``: PostgreSQL then commits for real (and truncates
    afterwards). On SQLite the test runs on a file copy of the empty, migrated test database,
    with the production options (WAL, ``BEGIN IMMEDIATE``, busy timeout), while the in-memory one
    stays inside its test transaction, rolled back as usual: it could not be flushed (its system
    accounts are append-only)."""
    if sqlite_template is None:
        yield
        return
    path = Path(shutil.copy(sqlite_template, tmp_path / "encaisse.sqlite3"))
    in_memory, saved = connections["default"], connections.settings["default"]
    connections.settings["default"] = {**saved, "NAME": str(path)}  # read by every new thread
    connections["default"] = connections.create_connection("default")
    try:
        yield
    finally:
        connections["default"].close()
        connections.settings["default"] = saved
        connections["default"] = in_memory


@pytest.fixture
def run_concurrently() -> Callable[
    [list[Callable[[], Any]]], list[tuple[Any, BaseException | None]]
]:
    return concurrency.run_concurrently


class StallingSmtpServer(threading.Thread):
    """An SMTP server on 127.0.0.1 that accepts one connection, says nothing for ``stall``
    seconds (a mail server under load), then speaks just enough SMTP to take the messages."""

    def __init__(self, stall: float) -> None:
        super().__init__(name="stalling-smtp", daemon=True)
        self.stall = stall
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(JOIN_TIMEOUT)
        self.port = self.listener.getsockname()[1]
        self.connected = threading.Event()
        self.messages: list[bytes] = []

    @property
    def mailers(self) -> dict[str, Any]:
        options = {"host": "127.0.0.1", "port": self.port, "use_tls": False, "timeout": 10}
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": options,
            }
        }

    def run(self) -> None:
        with self.listener, self.listener.accept()[0] as conn, conn.makefile("rb") as lines:
            self.connected.set()
            time.sleep(self.stall)
            conn.sendall(b"220 stalling.test ESMTP\r\n")
            for line in lines:
                verb = line[:4].upper()
                if verb == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    self.messages.append(self._read_message(lines))
                    conn.sendall(b"250 queued\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 ok\r\n")

    @staticmethod
    def _read_message(lines: Any) -> bytes:
        message = []
        for line in lines:
            if line == b".\r\n":
                break
            message.append(line)
        return b"".join(message)


@pytest.fixture
def stalling_smtp() -> Iterator[StallingSmtpServer]:
    server = StallingSmtpServer(stall=5.0)
    server.start()
    yield server
    server.join(JOIN_TIMEOUT)
