"""Videos in a store (a folder or an S3 bucket), not in the database: when the store took a task's
video (`tasks.video_stored_at`), and why it has not yet (`tasks.store_error`: the store was down
or refused the credentials; the video waits on the machine that saved it).

Revision ID: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("video_stored_at", sa.Text))
    op.add_column("tasks", sa.Column("store_error", sa.Text))


def downgrade() -> None:
    op.drop_column("tasks", "store_error")
    op.drop_column("tasks", "video_stored_at")
