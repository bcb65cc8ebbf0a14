"""What differs between the databases a store can use: how to connect, how writers take turns, what a failure means.

The store speaks one SQL through SQLAlchemy Core; this module sets each database up for it. SQLite is a file:
a fresh connection per operation (nothing stays open, so a killed process leaves nothing locked), WAL mode, and
transactions begun by SQLAlchemy itself, `BEGIN IMMEDIATE` for writes, so a write waits for the lock rather than
failing half-way. PostgreSQL is a server: a small pool of connections, each checked before use, so a restarted
server or a dropped connection costs one reconnect rather than an error. Each turns a driver's error into a
message that says what to do, and never shows a password.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool

from interviewer.errors import StoreError

BUSY_TIMEOUT_SECONDS = 5.0
"""How long a write waits for another process's lock before the person is told."""
QUEUE_TIMEOUT_SECONDS = 60.0
"""How long a SQLite write waits behind this process's other writes (many sessions answering at once)."""
CONNECT_TIMEOUT_SECONDS = 5
"""How long a PostgreSQL connection may take before the person is told the server cannot be reached."""
WRITE = "interviewer_write"
"""Execution option that marks a transaction as a writer's (SQLite begins it IMMEDIATE)."""


class Database(Protocol):
    """One database as the store uses it."""

    engine: Engine
    label: str
    """How messages name the database: a file path, or a URL without its password."""

    def prepare(self) -> None:
        """Whatever must exist before the first connection (SQLite: the folder and WAL mode)."""
        ...

    def writing(self) -> Any:
        """A context manager around each write transaction (writers of this process may have to take turns)."""
        ...

    def explain(self, error: Exception) -> str:
        """A message that says what went wrong and what to do about it."""
        ...


def connect(url: str, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> Database:
    """The database a URL names: `sqlite:///path` or `postgresql://user:password@host:port/name`."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreError(
            "INTERVIEWER_DATABASE_URL is not a database URL; write sqlite:///path/to/file.db or "
            "postgresql://user:password@host:5432/name."
        ) from error
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return SqliteDatabase(Path(parsed.database), busy_timeout)
    if parsed.get_backend_name() in ("postgresql", "postgres"):
        return PostgresDatabase(parsed, busy_timeout)
    raise StoreError(
        f"The transcript store must be a SQLite file or PostgreSQL, not {parsed.render_as_string(hide_password=True)};"
        " write sqlite:///path/to/file.db or postgresql://user:password@host:5432/name."
    )


def _driver_error(error: Exception) -> Exception:
    """The driver's own exception inside SQLAlchemy's wrapper: its message, without the SQL and its parameters
    (which hold answers) that SQLAlchemy's own message adds."""
    return error.orig if isinstance(error, DBAPIError) and error.orig is not None else error


class SqliteDatabase:
    """A SQLite file: fresh connections, WAL, SQLAlchemy-managed transactions, one writer of this process at once."""

    def __init__(self, path: Path, busy_timeout: float) -> None:
        self.path = path
        self.label = str(path)
        self.busy_timeout = busy_timeout
        self._writer = threading.Lock()
        self.engine = create_engine(f"sqlite:///{path}", poolclass=NullPool, connect_args={"timeout": busy_timeout})
        event.listen(self.engine, "connect", _sqlite_connected)
        event.listen(self.engine, "begin", _sqlite_begin)

    def prepare(self) -> None:
        """Create the folder and turn on WAL (a setting kept in the file; it cannot change inside a transaction)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        raw = self.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA journal_mode=WAL")
        finally:
            raw.close()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Writers of this process take turns: SQLite's busy handler polls with growing sleeps, so with twenty
        sessions writing at once one of them could be starved past the busy timeout and told "locked"."""
        waited = max(self.busy_timeout, QUEUE_TIMEOUT_SECONDS)
        if not self._writer.acquire(timeout=waited):
            raise StoreError(
                f"The transcript store {self.label} is still busy saving other sessions' answers after "
                f"{waited:.0f} s; wait a moment, then retry."
            )
        try:
            yield
        finally:
            self._writer.release()

    def explain(self, error: Exception) -> str:
        """A message that says what to do about a storage failure."""
        cause = _driver_error(error)
        text = str(cause).lower()
        code = getattr(cause, "sqlite_errorname", "")
        if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text or "busy" in text:
            hint = "another process holds the database; close it or wait, then retry"
        elif code.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text or "permission" in text:
            hint = "the database is read-only; fix its permissions or point INTERVIEWER_DB_PATH elsewhere"
        elif code.startswith("SQLITE_CANTOPEN") and not os.access(self.path.parent, os.W_OK):
            hint = (
                f"the folder {self.path.parent} is read-only, and SQLite must create its journal files there; "
                "fix its permissions or point INTERVIEWER_DB_PATH elsewhere"
            )
        elif code == "SQLITE_FULL" or code.startswith("SQLITE_IOERR") or "full" in text or "no space" in text:
            hint = "writing to the disk failed (is it full?); free some space, then retry"
        else:
            hint = "check the file, or point INTERVIEWER_DB_PATH elsewhere"
        return f"Cannot use the transcript store {self.label} ({cause}): {hint}."


def _sqlite_connected(dbapi_connection: Any, _record: Any) -> None:
    """Leave BEGIN to SQLAlchemy (the sqlite3 module would skip it before reads and DDL) and enforce foreign keys."""
    dbapi_connection.isolation_level = None
    dbapi_connection.execute("PRAGMA foreign_keys=ON")


def _sqlite_begin(connection: Connection) -> None:
    """Begin every transaction; a writer's takes the write lock at once, waiting up to the busy timeout for it."""
    immediate = connection.get_execution_options().get(WRITE)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class PostgresDatabase:
    """A PostgreSQL server through psycopg 3: pooled connections, checked before use; writers never queue here."""

    def __init__(self, url: URL, busy_timeout: float) -> None:
        url = url.set(drivername="postgresql+psycopg")
        self.label = url.render_as_string(hide_password=True)
        self.engine = create_engine(
            url,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=10,
            connect_args={
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                # a lock held elsewhere (a migration, a stuck session) is waited on as long as SQLite's would be
                "options": f"-c lock_timeout={int(busy_timeout * 1000)}",
                "application_name": "interviewer",
            },
        )

    def prepare(self) -> None:
        """Nothing to create: the database itself is made by whoever runs the server."""

    def writing(self) -> nullcontext[None]:
        """PostgreSQL locks rows, not the database: writers of one process need not take turns."""
        return nullcontext()

    def explain(self, error: Exception) -> str:
        """A message that says what to do about a database failure."""
        cause = _driver_error(error)
        state = getattr(cause, "sqlstate", None) or ""
        text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        if state == "28P01" or "password authentication failed" in text:
            hint = "the server refused the user or password; check INTERVIEWER_DATABASE_URL"
        elif state == "3D000":
            hint = "the database does not exist; create it (createdb) or fix INTERVIEWER_DATABASE_URL"
        elif state in ("55P03", "40P01") or "lock timeout" in text:
            hint = "another session holds a lock on the data; wait a moment, then retry"
        elif state == "53100":
            hint = "the database server's disk is full; free some space, then retry"
        elif state.startswith(("08", "57")) or not state:
            hint = "the database server cannot be reached or closed the connection; check that it runs, then retry"
        else:
            hint = "check the server's log, then retry"
        return f"Cannot use the transcript store {self.label} ({text}): {hint}."
