"""Alembic's entry point: run the migrations on the connection the store hands over (`migrate.upgrade`).

Run from the command line (`alembic -c interviewer/store/alembic.ini ...`, to write a new revision or inspect
one), it opens the store the settings name, as the app would.
"""

from __future__ import annotations

from alembic import context

from interviewer.settings import load_settings
from interviewer.store.databases import connect


def run() -> None:
    """Migrate on the given connection (inside the store's transaction and lock), or on a fresh one."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = connect(load_settings().store_url).engine
    with engine.begin() as fresh:
        context.configure(connection=fresh)
        context.run_migrations()


run()
