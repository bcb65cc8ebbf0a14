"""Bring a database to the newest schema with Alembic: once, under a lock, without losing a round.

Every process that opens the store calls `upgrade`. When the database is already current that is one read. Else
one transaction takes a lock (PostgreSQL: an advisory lock; SQLite: the write lock of `BEGIN IMMEDIATE`), so of
several replicas starting at once one migrates and the others find the work done. A SQLite file made before
Alembic (its migrations recorded in `_migrations`) is adopted in the same transaction: its schema is revision
0001's, so that revision is recorded as applied and the later ones run on the rounds already there.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection

from interviewer.errors import StoreError
from interviewer.store.databases import WRITE

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
NUMBERED_MIGRATIONS = {"m001_initial": "0001"}
"""The store's numbered migrations before Alembic, and the revision whose schema each one left."""
LOCK_KEY = 7_424_201_114
"""PostgreSQL advisory lock held while migrating (any constant other programs on the server do not use)."""


def _config(connection: Connection | None = None) -> Config:
    """Alembic's configuration: our migrations folder, and the connection to run them on."""
    config = Config(attributes={"connection": connection})
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The newest revision."""
    revision = _scripts().get_current_head()
    assert revision is not None
    return revision


def current(connection: Connection) -> str | None:
    """The revision a database is at; None when Alembic has never run on it."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest revision, unless it is there already; refuse one from a newer version."""
    with engine.connect() as connection:
        revision = current(connection)
    if revision == head():
        return
    if revision is not None and revision not in {script.revision for script in _scripts().walk_revisions()}:
        raise StoreError(
            f"The transcript store is at schema revision {revision}, which this version of the app does not know: "
            "a newer version upgraded it. Run that version, or restore a backup made before the upgrade."
        )
    with engine.connect() as connection:
        connection.execution_options(**{WRITE: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            adopt_numbered_migrations(connection)
            command.upgrade(_config(connection), "head")


def adopt_numbered_migrations(connection: Connection) -> None:
    """Record the revision a pre-Alembic database is at, and drop its old record (`_migrations`)."""
    tables = set(inspect(connection).get_table_names())
    if "_migrations" not in tables or "alembic_version" in tables:
        return
    applied = {row[0] for row in connection.execute(text("SELECT name FROM _migrations"))}
    unknown = applied - set(NUMBERED_MIGRATIONS)
    if unknown:
        raise StoreError(
            f"The transcript store records migrations this version does not know ({', '.join(sorted(unknown))}); "
            "it was made by another version of the app: run that version, or restore a backup."
        )
    connection.execute(text("DROP TABLE _migrations"))
    if applied:  # none applied: nothing was created, and the revisions create it all
        MigrationContext.configure(connection).stamp(_scripts(), max(NUMBERED_MIGRATIONS[name] for name in applied))
