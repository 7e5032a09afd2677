"""Spend you can cap: the credits a task was expected to reserve when it was journalled
(`tasks.credits_estimate`, counted until FoxAPI reports `credits_reserved`), and the budgets a
teacher sets per user, or for everyone ('*'), in a shared history (`budgets`).

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"  # 0004 (ratings) is written alongside; the chain is joined when merged
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("credits_estimate", sa.Float))
    op.create_table(
        "budgets",
        sa.Column("user", sa.Text, primary_key=True),
        sa.Column("credits", sa.Float),
        sa.Column("tasks", sa.Integer),
        sa.Column("per", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("set_by", sa.Text),
        sa.Column("set_at", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("budgets")
    op.drop_column("tasks", "credits_estimate")
