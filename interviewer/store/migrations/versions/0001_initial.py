"""Rounds and their turns: the schema the store had before Alembic (its numbered migration `m001_initial`).

A database made by that migration is the same as one made by this revision, so the store adopts it by recording
this revision as applied (`migrate.adopt_numbered_migrations`) rather than running it.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the rounds and turns tables; a turn's (round, position) is unique."""
    op.create_table(
        "rounds",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("started_at", sa.Text, nullable=False),
        sa.Column("ended_at", sa.Text),
        sa.Column("mode", sa.Text, nullable=False),
        sa.Column("topics", sa.Text, nullable=False),
        sa.Column("focus", sa.Text),
        sa.Column("question_ids", sa.Text, nullable=False),
        sa.Column("pending_follow_up", sa.Text),
    )
    op.create_table(
        "turns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("round_id", sa.Text, sa.ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("question_id", sa.Text),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text),
        sa.Column("skipped", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("score", sa.Float),
        sa.Column("grader", sa.Text),
        sa.Column("grade", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.UniqueConstraint("round_id", "position"),
    )
    op.create_index("turns_by_round", "turns", ["round_id", "position"])


def downgrade() -> None:
    """Drop both tables (and every transcript with them)."""
    op.drop_table("turns")
    op.drop_table("rounds")
