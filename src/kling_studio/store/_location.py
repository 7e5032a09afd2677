"""The one setting that says where videos live: a folder path or `s3://bucket/prefix`.

`History(url, videos=...)`, the CLI's `--videos`, else `KLING_STUDIO_VIDEOS`, else the folder
the history names (its `videos/`). Credentials and the endpoint of an S3 store come only from the
standard AWS environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
AWS_ENDPOINT_URL, AWS_REGION, AWS_ALLOW_HTTP): a `videos=` value holding a secret is refused.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from ..config import env
from ..errors import ConfigurationError

VIDEOS_ENV: Final = "KLING_STUDIO_VIDEOS"
# An S3 bucket name (AWS's rules, loosely: what any S3-compatible service accepts).
_BUCKET: Final = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")


@dataclass(frozen=True)
class StoreLocation:
    kind: Literal["folder", "s3", "memory"]
    folder: Path | None = None
    bucket: str | None = None
    prefix: str = ""

    @property
    def display(self) -> str:
        """What a person is shown: never a credential (none is ever held here)."""
        if self.kind == "folder":
            return str(self.folder)
        if self.kind == "s3":
            return f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return "memory://"


def parse_location(
    value: str | os.PathLike[str] | None, default_folder: Path | None = None
) -> StoreLocation:
    """The store named by `value`, else KLING_STUDIO_VIDEOS, else `default_folder`."""
    text = os.fspath(value) if value is not None else env(VIDEOS_ENV)
    if text is None or not str(text).strip():
        if default_folder is None:
            raise ConfigurationError(
                f"no video store given: pass videos=<folder or s3://bucket/prefix> or set "
                f"{VIDEOS_ENV}"
            )
        return StoreLocation("folder", folder=default_folder.expanduser().absolute())
    text = str(text).strip()
    if text == "memory://":
        return StoreLocation("memory")
    if "://" not in text:
        return StoreLocation("folder", folder=Path(text).expanduser().absolute())
    scheme, _, rest = text.partition("://")
    if scheme.lower() != "s3":
        raise ConfigurationError(
            f"the video store must be a folder path or s3://bucket/prefix; got a {scheme}:// URL"
        )
    if "@" in rest or "?" in rest or "#" in rest:
        raise ConfigurationError(
            "the video store URL must be s3://bucket/prefix with no credentials or options in "
            "it; give credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or a profile) "
            "and the endpoint in AWS_ENDPOINT_URL"
        )
    bucket, _, prefix = rest.partition("/")
    if not _BUCKET.fullmatch(bucket):
        raise ConfigurationError(
            f"{bucket!r} is not an S3 bucket name (3-63 lower-case letters, digits, '.', '-'): "
            "write s3://bucket/prefix"
        )
    prefix = "/".join(part for part in prefix.split("/") if part)
    if any(part in (".", "..") for part in prefix.split("/")):
        raise ConfigurationError(f"the prefix of s3://{bucket}/{prefix} has a '.' or '..' part")
    return StoreLocation("s3", bucket=bucket, prefix=prefix)
