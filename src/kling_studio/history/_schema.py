"""The history's tables, one schema for SQLite and PostgreSQL (SQLAlchemy Core).

The schema is changed only by Alembic revisions in `migrations/versions/` (run on connect, see
`_engine.migrate`); this module describes the newest one for the queries. Times are ISO 8601
UTC text with microseconds (fixed width, so text order is time order, on both databases), JSON
is compact text, booleans are 0/1: a SQLite file stays readable with any SQLite tool.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import BigInteger, Column, Float, Index, Integer, LargeBinary, MetaData, Table, Text

APP_ID: Final = 0x4B4C4E47  # "KLNG" in SQLite's PRAGMA application_id: marks the file as ours
# Alembic revisions, oldest first; SQLite's PRAGMA user_version holds their count.
REVISIONS: Final = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009")
SCHEMA_VERSION: Final = len(REVISIONS)
HEAD: Final = REVISIONS[-1]

metadata = MetaData()

tasks = Table(
    "tasks",
    metadata,
    Column("local_id", Text, primary_key=True),
    Column("task_id", Text),
    Column("status", Text, nullable=False),
    Column("progress", Integer, nullable=False, default=0),
    Column("prompt", Text, nullable=False),
    Column("negative_prompt", Text),
    Column("resolution", Text, nullable=False),
    Column("duration", Integer, nullable=False),
    Column("generate_audio", Integer, nullable=False),
    Column("model", Text, nullable=False),
    Column("request", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("request_hash", Text, nullable=False),
    Column("submitted_at", Text, nullable=False),
    Column("created_at", Text),
    Column("started_at", Text),
    Column("finished_at", Text),
    Column("updated_at", Text, nullable=False),
    Column("estimated_time", Float),
    Column("credits_reserved", Float),
    Column("video_url", Text),
    Column("video_path", Text),
    Column("download_error", Text),
    Column("url_expired", Integer, nullable=False, default=0),
    Column("download_attempts", Integer, nullable=False, default=0),
    Column("error_code", Text),
    Column("error_type", Text),
    Column("error_message", Text),
    Column("unknown_reason", Text),
    Column("group_id", Text),
    Column("variant", Text),
    Column("raw", Text),
    # 0002: who made it, and which kernel follows it until when (see _leases.py).
    Column("author", Text),
    Column("lease_owner", Text),
    Column("lease_until", Text),
    # 0003: the video's content hash; a shared history keeps its bytes in `videos`.
    Column("video_sha256", Text),
    # 0005: the credits expected when it was journalled (counted until FoxAPI reports its own).
    Column("credits_estimate", Float),
    # 0008: when the video store took the video (None: not yet, or saved before stores), and
    # why not yet (the store was down or refused the credentials: the video waits here).
    Column("video_stored_at", Text),
    Column("store_error", Text),
    Index("tasks_submitted", "submitted_at"),
    Index("tasks_task_id", "task_id"),
    Index("tasks_status", "status"),
    Index("tasks_hash", "request_hash", "status"),
    Index("tasks_group", "group_id"),
    Index("tasks_author", "author", "submitted_at"),
    Index("tasks_video", "video_path"),
)

# 0003: video bytes by content, as shared histories kept them before video stores (0008): old
# rows still play from here; `history migrate --videos` moves them into the store.
videos = Table(
    "videos",
    metadata,
    Column("sha256", Text, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("stored_at", Text, nullable=False),
)

# 0004: one judgement per (task, person); nobody's write touches another's row (_ratings.py).
ratings = Table(
    "ratings",
    metadata,
    Column("local_id", Text, primary_key=True),
    Column("user", Text, primary_key=True),
    Column("rating", Integer),
    Column("winner", Integer),
    Column("note", Text),
    Column("rated_at", Text, nullable=False),
)

# 0004: comparison plans (JSON), so every user of a shared history sees one as it was made.
comparisons = Table(
    "comparisons",
    metadata,
    Column("group_id", Text, primary_key=True),
    Column("author", Text),
    Column("created_at", Text, nullable=False),
    Column("plan", Text, nullable=False),
)

# 0005: budgets a teacher sets in a shared history, per user or for everyone ("*"); every kernel
# of that user honours them (history/_budgets.py).
budgets = Table(
    "budgets",
    metadata,
    Column("user", Text, primary_key=True),
    Column("credits", Float),
    Column("tasks", Integer),
    Column("per", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("set_by", Text),
    Column("set_at", Text, nullable=False),
)

# 0006: settings of the whole history, one row per key (e.g. "budget_timezone", _budgets.py).
settings = Table(
    "settings",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
    Column("set_by", Text),
    Column("set_at", Text, nullable=False),
)

# 0007: the class gateway's students (a token's SHA-256, never the token) and the creates they
# sent through it, by idempotency key (gateway/).
gateway_users = Table(
    "gateway_users",
    metadata,
    Column("name", Text, primary_key=True),
    Column("token_sha256", Text, nullable=False, unique=True),
    Column("created_at", Text, nullable=False),
    Column("revoked_at", Text),
)

gateway_creates = Table(
    "gateway_creates",
    metadata,
    Column("user", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("local_id", Text, nullable=False),
    Column("task_id", Text),
    Column("created_at", Text, nullable=False),
    Index("gateway_creates_task", "task_id"),
)

# 0009: measures of each saved video (media/_measures.py; history/_measures.py), one row per task;
# `version` is the formulas' (a row of an older version is measured again), `error` why a video
# could not be measured (so it is not tried on every read).
measures = Table(
    "measures",
    metadata,
    Column("local_id", Text, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("measured_at", Text, nullable=False),
    Column("frames", Integer),
    Column("first_frame_match", Float),
    Column("last_frame_match", Float),
    Column("motion", Float),
    Column("flicker", Float),
    Column("frozen_share", Float),
    Column("cuts", Integer),
    Column("sharpness", Float),
    Column("text_alignment", Float),
    Column("aesthetic", Float),
    Column("error", Text),
)
