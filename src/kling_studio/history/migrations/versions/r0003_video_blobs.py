"""Videos everyone can play: a shared history keeps each video's bytes once, by content
(`videos.sha256`), and every task names its video's hash (`tasks.video_sha256`).

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("video_sha256", sa.Text))
    op.create_table(
        "videos",
        sa.Column("sha256", sa.Text, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("stored_at", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("videos")
    op.drop_column("tasks", "video_sha256")
