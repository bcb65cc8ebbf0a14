"""A spoken answer keeps its recording and its delivery figures with its turn.

`recording` names the file under `$INTERVIEWER_HOME/recordings/` (never a path from outside it); `delivery` is the
JSON of `interviewer.speech.delivery.Delivery`. Both are empty for typed answers and for every turn saved before.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `turns.recording` and `turns.delivery`."""
    op.add_column("turns", sa.Column("recording", sa.Text))
    op.add_column("turns", sa.Column("delivery", sa.Text))


def downgrade() -> None:
    """Forget recordings and delivery figures (the recording files stay on disk)."""
    with op.batch_alter_table("turns") as batch:
        batch.drop_column("delivery")
        batch.drop_column("recording")
