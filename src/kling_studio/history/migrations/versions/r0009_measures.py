"""Measures of every saved video (media/_measures.py), one row per task, computed once when the
video is saved (or on first need for older rows) and kept with the version of their formulas.

Revision ID: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"  # other revisions are written alongside; the chain is joined when merged
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "measures",
        sa.Column("local_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("measured_at", sa.Text, nullable=False),
        sa.Column("frames", sa.Integer),
        sa.Column("first_frame_match", sa.Float),
        sa.Column("last_frame_match", sa.Float),
        sa.Column("motion", sa.Float),
        sa.Column("flicker", sa.Float),
        sa.Column("frozen_share", sa.Float),
        sa.Column("cuts", sa.Integer),
        sa.Column("sharpness", sa.Float),
        sa.Column("text_alignment", sa.Float),
        sa.Column("aesthetic", sa.Float),
        sa.Column("error", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("measures")
