"""The tables as the store's queries see them (SQLAlchemy Core), at the schema the newest migration leaves.

The migrations under `migrations/versions/` create and change the tables; this module only describes them for
queries, so a change to the schema is a new migration plus the matching change here. Times are ISO 8601 text
in UTC; a round's `started_at` is kept to the microsecond, so rounds sort newest first on every database.
Topics, planned questions, the pending follow-up, the grade and a spoken answer's delivery are JSON text. A
round's `owner` is the only person who may read or write it; its turns are reached only through it. A spoken
answer's `recording` is a file name under the recordings folder.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Integer, MetaData, Table, Text, UniqueConstraint

metadata = MetaData()

rounds = Table(
    "rounds",
    metadata,
    Column("id", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("started_at", Text, nullable=False),
    Column("ended_at", Text),
    Column("mode", Text, nullable=False),
    Column("topics", Text, nullable=False),
    Column("focus", Text),
    Column("question_ids", Text, nullable=False),
    Column("pending_follow_up", Text),
)

turns = Table(
    "turns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("round_id", Text, ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("question_id", Text),
    Column("topic", Text, nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text),
    Column("skipped", Boolean, nullable=False),
    Column("score", Float),
    Column("grader", Text),
    Column("grade", Text),
    Column("created_at", Text, nullable=False),
    Column("recording", Text),
    Column("delivery", Text),
    UniqueConstraint("round_id", "position"),
)
