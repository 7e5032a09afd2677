"""The class gateway (`kling-studio gateway`): its students, each known by the SHA-256 of a
token shown once (`gateway_users`), and every create a student sent through it, by the
student's idempotency key, so a create retried after a lost answer is never forwarded twice
(`gateway_creates`; a voice creation, which has no journal row, is remembered here too).

Revision ID: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_users",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("token_sha256", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("revoked_at", sa.Text),
    )
    op.create_table(
        "gateway_creates",
        sa.Column("user", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("local_id", sa.Text, nullable=False),
        sa.Column("task_id", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_index("gateway_creates_task", "gateway_creates", ["task_id"])


def downgrade() -> None:
    op.drop_index("gateway_creates_task", "gateway_creates")
    op.drop_table("gateway_creates")
    op.drop_table("gateway_users")
