"""Between the database's rows and TaskRecords: times as text, JSON as text, secrets scrubbed."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .._secrets import MIN_PASSWORD_CHARS, PASSWORD, scrub
from ._records import TaskRecord


def now() -> datetime:
    return datetime.now(tz=UTC)


def iso(value: datetime | None) -> str | None:
    """UTC ISO text with microseconds; naive datetimes are taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def since_text(value: datetime | timedelta | str) -> str:
    """A `since` filter as stored text. Naive datetimes and strings are local time."""
    if isinstance(value, timedelta):
        return iso(now() - value) or ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"since: not an ISO date or time: {value!r}") from exc
    if value.tzinfo is None:
        value = value.astimezone()  # the user's wall clock
    return iso(value) or ""


class Scrubber:
    """Second guard for secrets: every API key in use (`_secrets`) and the history's own
    database secrets (its password in any form, PGPASSWORD, sslpassword, passfile) never
    reach the database, even inside an error message."""

    def __init__(self, secrets: tuple[str, ...] | str | None) -> None:
        given = (secrets,) if isinstance(secrets, str) else tuple(secrets or ())
        long_enough = (s for s in given if len(s) >= MIN_PASSWORD_CHARS)
        self._secrets = sorted(long_enough, key=len, reverse=True)

    def __call__(self, text: str | None) -> str | None:
        if text is None:
            return None
        text = scrub(text)
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, PASSWORD)
        return text

    def json(self, value: Any) -> str | None:
        if value is None:
            return None
        return self(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))


def to_record(row: Mapping[Any, Any], load_path: Callable[[str | None], Path | None]) -> TaskRecord:
    def loads(name: str) -> Any:
        return json.loads(row[name]) if row[name] else None

    winner = row["winner"]
    return TaskRecord(
        local_id=row["local_id"],
        task_id=row["task_id"],
        status=row["status"],
        progress=row["progress"],
        prompt=row["prompt"],
        negative_prompt=row["negative_prompt"],
        resolution=row["resolution"],
        duration=row["duration"],
        generate_audio=bool(row["generate_audio"]),
        model=row["model"],
        request=loads("request") or {},
        payload=loads("payload") or {},
        request_hash=row["request_hash"],
        submitted_at=parse_time(row["submitted_at"]) or now(),
        created_at=parse_time(row["created_at"]),
        started_at=parse_time(row["started_at"]),
        finished_at=parse_time(row["finished_at"]),
        updated_at=parse_time(row["updated_at"]) or now(),
        estimated_time=row["estimated_time"],
        credits_reserved=row["credits_reserved"],
        video_url=row["video_url"],
        video_path=load_path(row["video_path"]),
        download_error=row["download_error"],
        url_expired=bool(row["url_expired"]),
        download_attempts=row["download_attempts"],
        error_code=row["error_code"],
        error_type=row["error_type"],
        error_message=row["error_message"],
        unknown_reason=row["unknown_reason"],
        group_id=row["group_id"],
        variant=loads("variant"),
        rating=row["rating"],
        winner=None if winner is None else bool(winner),
        note=row["note"],
        raw=loads("raw"),
        user=row["author"],
        video_stored=bool(row.get("video_stored")),
        store_error=row.get("store_error"),
    )
