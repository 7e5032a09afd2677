"""Ratings by several people, and comparison plans everyone can read.

- `ratings`: one judgement per (task, user): rating 1-5, winner mark, note. Nobody's write
  touches another's row. The per-task `rating`, `winner` and `note` columns of `tasks` are
  copied in, attributed to the task's author (else the user opening the history), and then
  dropped, so there is one place a judgement lives (SQLite: batch mode rebuilds the table and
  its indexes).
- `comparisons`: each comparison's plan (labels, order, title, parameters) as JSON, so another
  user of a shared history sees the comparison exactly as its author made it.

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _default_user() -> str:
    """Who owns an authorless task's rating: the History's user (handed over by `_engine`),
    else whoever runs the migration (`config.resolve_user`)."""
    from kling_studio.config import resolve_user

    given = context.config.attributes.get("user")
    return resolve_user(str(given) if given else None)


def upgrade() -> None:
    op.create_table(
        "ratings",
        sa.Column("local_id", sa.Text, primary_key=True),
        sa.Column("user", sa.Text, primary_key=True),
        sa.Column("rating", sa.Integer),
        sa.Column("winner", sa.Integer),
        sa.Column("note", sa.Text),
        sa.Column("rated_at", sa.Text, nullable=False),
    )
    op.create_table(
        "comparisons",
        sa.Column("group_id", sa.Text, primary_key=True),
        sa.Column("author", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("plan", sa.Text, nullable=False),
    )
    tasks = sa.table(
        "tasks",
        sa.column("local_id", sa.Text),
        sa.column("author", sa.Text),
        sa.column("rating", sa.Integer),
        sa.column("winner", sa.Integer),
        sa.column("note", sa.Text),
        sa.column("updated_at", sa.Text),
    )
    ratings = sa.table(
        "ratings",
        sa.column("local_id", sa.Text),
        sa.column("user", sa.Text),
        sa.column("rating", sa.Integer),
        sa.column("winner", sa.Integer),
        sa.column("note", sa.Text),
        sa.column("rated_at", sa.Text),
    )
    judged = sa.select(
        tasks.c.local_id,
        sa.func.coalesce(tasks.c.author, sa.literal(_default_user())),
        tasks.c.rating,
        tasks.c.winner,
        tasks.c.note,
        tasks.c.updated_at,
    ).where(
        sa.or_(
            tasks.c.rating.is_not(None),
            sa.and_(tasks.c.winner.is_not(None), tasks.c.winner != 0),
            sa.and_(tasks.c.note.is_not(None), tasks.c.note != ""),
        )
    )
    op.execute(
        ratings.insert().from_select(
            ["local_id", "user", "rating", "winner", "note", "rated_at"], judged
        )
    )
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("rating")
        batch.drop_column("winner")
        batch.drop_column("note")


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("rating", sa.Integer))
        batch.add_column(sa.Column("winner", sa.Integer))
        batch.add_column(sa.Column("note", sa.Text))
    op.drop_table("comparisons")
    op.drop_table("ratings")
