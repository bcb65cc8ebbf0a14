"""Every round has an owner: the person who may read, resume, export and delete it.

Rounds saved before owners existed were one local person's; they become the local owner's (`LOCAL_OWNER`), so
local mode sees exactly what it saw before.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

LOCAL_OWNER = "local"
"""`interviewer.models.LOCAL_OWNER` as it was when this revision was written (a migration never changes)."""


def upgrade() -> None:
    """Add `rounds.owner` (existing rounds: the local person's) and index a person's rounds by start time."""
    op.add_column("rounds", sa.Column("owner", sa.Text, nullable=False, server_default=LOCAL_OWNER))
    op.create_index("rounds_by_owner", "rounds", ["owner", "started_at"])


def downgrade() -> None:
    """Forget owners (every round becomes visible to whoever opens the store)."""
    op.drop_index("rounds_by_owner", "rounds")
    with op.batch_alter_table("rounds") as batch:
        batch.drop_column("owner")
