"""Who made each task (`author`), and which kernel follows it until when (a lease).

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no table copy): cheap on a big SQLite file and on PostgreSQL.
    op.add_column("tasks", sa.Column("author", sa.Text))
    op.add_column("tasks", sa.Column("lease_owner", sa.Text))
    op.add_column("tasks", sa.Column("lease_until", sa.Text))
    op.create_index("tasks_author", "tasks", ["author", "submitted_at"])
    op.create_index("tasks_video", "tasks", ["video_path"])  # one file, one task (set_video)


def downgrade() -> None:
    op.drop_index("tasks_video", "tasks")
    op.drop_index("tasks_author", "tasks")
    op.drop_column("tasks", "lease_until")
    op.drop_column("tasks", "lease_owner")
    op.drop_column("tasks", "author")
