"""A real PostgreSQL server for the tests: Debian's binaries, a temporary folder, a free loopback port.

One server per test session (`initdb` takes seconds); each test gets a fresh database copied from a template that
is already migrated, so a test starts from an empty, current schema in a few tens of milliseconds. The server
refuses to run as root, so as root it runs as the `postgres` user, in a folder that user owns. Connections over
TCP need the password generated for this run; the server is stopped and its folder removed at the end.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path

import psycopg
from psycopg import sql

SUPERUSER = "postgres"
TEMPLATE = "interviewer_template"


def binaries() -> Path | None:
    """The folder of `initdb` and `pg_ctl`: on the PATH, else the newest Debian installs under /usr/lib."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(path.split("/")[4]))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """A running server and how to reach it; `new_database` gives each test its own empty, migrated database."""

    def __init__(self, folder: Path, port: int, password: str) -> None:
        self.folder = folder
        self.port = port
        self.password = password
        self._numbers = count(1)

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of one database, with this run's password."""
        return f"postgresql://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def admin(self) -> psycopg.Connection:
        """A connection to the server's maintenance database, in autocommit (CREATE DATABASE needs it)."""
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, password=self.password, dbname="postgres", autocommit=True
        )

    def new_database(self, migrated: bool = True) -> str:
        """A fresh database, at the newest schema (a copy of the migrated template) or empty; returns its URL."""
        name = f"test_{os.getpid()}_{next(self._numbers)}"
        template = TEMPLATE if migrated else "template0"
        with self.admin() as admin:
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(*map(sql.Identifier, (name, template))))
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a test's database, closing whatever connections still hold it."""
        name = url.rsplit("/", 1)[1]
        with self.admin() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def terminate_connections(self, url: str) -> int:
        """Cut every connection to a database, as a server restart or a network failure would; returns how many."""
        name = url.rsplit("/", 1)[1]
        with self.admin() as admin:
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            ).fetchall()
        return len(rows)


def _as_server_user(command: list[str]) -> list[str]:
    """Run as `postgres` when we are root (the server refuses root), else as ourselves."""
    return ["runuser", "-u", SUPERUSER, "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres_server(bin_dir: Path) -> Iterator[PostgresServer]:
    """Start a throwaway server (no fsync: test data need not survive a power cut), stop it and remove it after."""
    folder = Path(tempfile.mkdtemp(prefix="interviewer-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, SUPERUSER, SUPERUSER)
    password = secrets.token_urlsafe(16)
    password_file = folder / "password"
    password_file.write_text(password)
    if os.geteuid() == 0:
        shutil.chown(password_file, SUPERUSER, SUPERUSER)
    data, log, port = folder / "data", folder / "server.log", free_port()
    run = {"check": True, "capture_output": True, "text": True, "cwd": folder}
    subprocess.run(
        _as_server_user(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--pwfile", str(password_file),
             "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"]
        ),
        **run,
    )  # fmt: skip
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"]), **run
    )
    try:
        server = PostgresServer(folder, port, password)
        with server.admin() as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
        yield server
    finally:
        subprocess.run(
            _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)
