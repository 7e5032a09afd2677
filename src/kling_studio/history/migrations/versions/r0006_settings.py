"""History-wide settings as key/value rows (`settings`): the first is the budget time zone,
the zone whose calendar days a per-day budget counts ("UTC" while no row says otherwise).

Revision ID: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("set_by", sa.Text),
        sa.Column("set_at", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("settings")
