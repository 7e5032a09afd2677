"""The tasks table, as the first history (SQLite user_version 1) had it.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    text, integer = sa.Text, sa.Integer
    op.create_table(
        "tasks",
        sa.Column("local_id", text, primary_key=True),
        sa.Column("task_id", text),
        sa.Column("status", text, nullable=False),
        sa.Column("progress", integer, nullable=False, server_default="0"),
        sa.Column("prompt", text, nullable=False),
        sa.Column("negative_prompt", text),
        sa.Column("resolution", text, nullable=False),
        sa.Column("duration", integer, nullable=False),
        sa.Column("generate_audio", integer, nullable=False),
        sa.Column("model", text, nullable=False),
        sa.Column("request", text, nullable=False),
        sa.Column("payload", text, nullable=False),
        sa.Column("request_hash", text, nullable=False),
        sa.Column("submitted_at", text, nullable=False),
        sa.Column("created_at", text),
        sa.Column("started_at", text),
        sa.Column("finished_at", text),
        sa.Column("updated_at", text, nullable=False),
        sa.Column("estimated_time", sa.Float),
        sa.Column("credits_reserved", sa.Float),
        sa.Column("video_url", text),
        sa.Column("video_path", text),
        sa.Column("download_error", text),
        sa.Column("url_expired", integer, nullable=False, server_default="0"),
        sa.Column("download_attempts", integer, nullable=False, server_default="0"),
        sa.Column("error_code", text),
        sa.Column("error_type", text),
        sa.Column("error_message", text),
        sa.Column("unknown_reason", text),
        sa.Column("group_id", text),
        sa.Column("variant", text),
        sa.Column("rating", integer),
        sa.Column("winner", integer),
        sa.Column("note", text),
        sa.Column("raw", text),
    )
    op.create_index("tasks_submitted", "tasks", ["submitted_at"])
    op.create_index("tasks_task_id", "tasks", ["task_id"])
    op.create_index("tasks_status", "tasks", ["status"])
    op.create_index("tasks_hash", "tasks", ["request_hash", "status"])
    op.create_index("tasks_group", "tasks", ["group_id"])


def downgrade() -> None:
    op.drop_table("tasks")
