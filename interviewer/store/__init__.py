"""The transcript store: the record of every round, in SQLite (the default) or PostgreSQL.

`Store` (in `base`) is what the rest of the package uses; `SqlStore` serves it from either database, chosen by
the URL in `Settings.store_url` (`INTERVIEWER_DATABASE_URL`, else `$INTERVIEWER_HOME/transcripts.db`). The schema
is changed only by Alembic migrations (`migrations/versions/`), applied when a store is opened.
"""

from __future__ import annotations

from interviewer.settings import Settings
from interviewer.store.base import Store
from interviewer.store.sql import SqlStore

__all__ = ["SqlStore", "Store", "open_store"]


def open_store(settings: Settings) -> Store:
    """The store the settings name, migrated to the newest schema."""
    return SqlStore(settings.store_url)
