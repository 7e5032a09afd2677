"""Content-addressed video objects in a folder, an S3-compatible bucket or memory (obstore).

An object's name is the SHA-256 of its bytes (`<sha256>.mp4`; a video's poster is
`<sha256>.poster.jpg`, as beside a saved video), so a video kept twice is one object and two
kernels saving the same clip never clash. A put is conditional (written only if absent: S3's
`If-None-Match: *`, a hard link in a folder) and streamed from the file a chunk at a time.

Reads stream into a temporary file beside the target, are checked against the hash, and are then
renamed into place: nobody ever sees a partial or wrong video.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import httpx

from .._secrets import remember
from ..errors import VideoStoreError
from ._location import StoreLocation, parse_location

if TYPE_CHECKING:
    from obstore.store import ObjectStore

Kind = Literal["video", "poster"]
# A poster is named as media/_posters.py names one beside its video.
SUFFIX: Final[dict[Kind, str]] = {"video": ".mp4", "poster": ".poster.jpg"}
CHUNK: Final = 1 << 20  # bytes read or hashed at a time
PUT_ATTEMPTS: Final = 3  # a PUT that could not connect or got a 5xx is sent again
PUT_TIMEOUT: Final = httpx.Timeout(120.0, connect=5.0)
# Secrets of the AWS environment: remembered so that no message can show them.
SECRET_ENV: Final = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_SHA256_HEX: Final = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class PutOutcome:
    sha256: str
    size: int
    written: bool  # False: the store held it already


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _check_sha(sha256: str) -> str:
    if len(sha256) != 64 or not set(sha256) <= _SHA256_HEX:
        raise ValueError(f"not a SHA-256 in hex: {sha256[:80]!r}")
    return sha256


class VideoStore:
    """Videos and posters by content hash. Thread-safe (obstore's stores are)."""

    def __init__(self, location: StoreLocation, store: ObjectStore) -> None:
        self.location = location
        self._store = store

    @property
    def display(self) -> str:
        return self.location.display

    @property
    def kind(self) -> str:
        return self.location.kind

    def __repr__(self) -> str:
        return f"VideoStore({self.display!r})"

    @staticmethod
    def key(sha256: str, kind: Kind = "video") -> str:
        return f"{_check_sha(sha256)}{SUFFIX[kind]}"

    # --- reading ---------------------------------------------------------------------------

    def exists(self, sha256: str, kind: Kind = "video") -> bool:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            obstore.head(self._store, self.key(sha256, kind))
        except (NotFoundError, FileNotFoundError):
            return False
        except Exception as exc:
            raise self._error("read", exc) from None
        return True

    def get_file(self, sha256: str, target: Path, kind: Kind = "video") -> Path:
        """Stream the object into `target` (checked against its hash for a video)."""
        import obstore
        from obstore.exceptions import NotFoundError

        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        digest = hashlib.sha256()
        try:
            try:
                result = obstore.get(self._store, self.key(sha256, kind))
                with part.open("xb") as fh:
                    for chunk in result.stream(min_chunk_size=CHUNK):
                        digest.update(chunk)
                        fh.write(chunk)
            except (NotFoundError, FileNotFoundError):
                raise VideoStoreError(
                    f"the video store {self.display} has no {kind} {sha256[:12]}",
                    retryable=False,
                ) from None
            except OSError:
                raise
            except Exception as exc:
                raise self._error("read", exc) from None
            if kind == "video" and digest.hexdigest() != sha256:
                raise VideoStoreError(
                    f"the video {sha256[:12]} in the store {self.display} is damaged (its bytes "
                    "do not match its hash)",
                    retryable=False,
                )
            os.replace(part, target)
        finally:
            part.unlink(missing_ok=True)
        return target

    def signed_url(self, sha256: str, expires_in: float, kind: Kind = "video") -> str | None:
        """A URL a browser can GET (with Range) for `expires_in` seconds: a presigned S3 URL;
        None for a folder or memory store (the kernel's machine serves those)."""
        if self.location.kind != "s3":
            return None
        import obstore
        from obstore.store import S3Store

        assert isinstance(self._store, S3Store)
        seconds = max(1, min(int(expires_in), 7 * 24 * 3600))  # S3 refuses more than 7 days
        try:
            return obstore.sign(
                self._store,
                "GET",
                self.key(sha256, kind),
                timedelta(seconds=seconds),
            )
        except Exception as exc:
            raise self._error("sign a URL for", exc) from None

    # --- writing ---------------------------------------------------------------------------

    def put_file(self, path: Path, sha256: str | None = None, kind: Kind = "video") -> PutOutcome:
        """Keep the file's bytes under their hash unless the store has them; streamed."""
        sha256 = sha256 or file_sha256(path)
        size = path.stat().st_size
        key = self.key(sha256, kind)
        if self.location.kind == "folder":
            return PutOutcome(sha256, size, self._put_folder(path, key))
        if self.location.kind == "s3":
            return PutOutcome(sha256, size, self._put_s3(path, key, size))
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        try:  # memory (tests): one conditional put
            obstore.put(self._store, key, path, mode="create")
            return PutOutcome(sha256, size, True)
        except (AlreadyExistsError, PreconditionError, FileExistsError):
            return PutOutcome(sha256, size, False)
        except Exception as exc:
            raise self._error("write", exc) from None

    def _put_s3(self, path: Path, key: str, size: int) -> bool:
        """One PUT with `If-None-Match: *` (written only if absent), its body streamed from the
        file by httpx a chunk at a time, to a URL obstore presigns with the AWS credentials.
        (obstore's own conditional put holds the whole object in memory, and its multipart
        upload several 5 MiB parts: +16 to +22 MiB for a 30 MiB clip against +0 here,
        benchmarks/save_memory.py.) False when the store had it already."""
        import obstore
        from obstore.store import S3Store

        assert isinstance(self._store, S3Store)
        try:
            url = obstore.sign(self._store, "PUT", key, timedelta(minutes=15))
        except Exception as exc:
            raise self._error("sign a write to", exc) from None
        headers = {"If-None-Match": "*", "Content-Length": str(size)}
        last = ""
        for attempt in range(PUT_ATTEMPTS):
            try:
                answer = httpx.put(url, content=_chunks(path), headers=headers, timeout=PUT_TIMEOUT)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                code = answer.status_code
                if code in (200, 201, 204):
                    return True
                if code in (409, 412):  # another writer's copy, the same bytes
                    return False
                if code in (401, 403):
                    raise VideoStoreError(
                        f"the video store {self.display} refused the credentials to write it "
                        f"(check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile): "
                        f"HTTP {code} {_s3_code(answer.text)}"
                    )
                last = f"HTTP {code} {_s3_code(answer.text)}"
                if code < 500 and code != 429:
                    break
            if attempt + 1 < PUT_ATTEMPTS:
                time.sleep(0.2 * 2**attempt)
        raise VideoStoreError(f"the video store {self.display} could not write ({last})")

    def _put_folder(self, path: Path, key: str) -> bool:
        assert self.location.folder is not None
        target = self.location.folder / key
        if target.is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(f".{key}.{uuid.uuid4().hex}.part")
        try:
            try:  # the same disk: a second name for the same bytes costs no space
                os.link(path, part)
            except OSError:
                shutil.copyfile(path, part)  # streamed by the OS
            with contextlib.suppress(FileExistsError):
                os.link(part, target)  # written only if absent (a rename would overwrite)
                return True
            return False
        except OSError as exc:
            raise VideoStoreError(
                f"the video store {self.display} could not be written ({exc.strerror or exc})"
            ) from None
        finally:
            part.unlink(missing_ok=True)

    async def put_stream(self, chunks: AsyncIterator[bytes], spool: Path) -> PutOutcome:
        """Keep a stream of bytes: spooled to a temporary file in the folder `spool` while it is
        hashed (the name is known only at the end), then put like a file. Memory: a chunk."""
        import asyncio

        part = await asyncio.to_thread(_spool_file, spool)
        digest = hashlib.sha256()
        try:
            with _Writer(part) as fh:
                async for chunk in chunks:
                    digest.update(chunk)
                    fh.write(chunk)
            return await asyncio.to_thread(self.put_file, part, digest.hexdigest())
        finally:
            await asyncio.to_thread(part.unlink, missing_ok=True)

    def _error(self, doing: str, exc: BaseException) -> VideoStoreError:
        from obstore.exceptions import PermissionDeniedError, UnauthenticatedError

        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        if isinstance(exc, PermissionDeniedError | UnauthenticatedError):
            return VideoStoreError(
                f"the video store {self.display} refused the credentials to {doing} it (check "
                f"AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile): {first}"
            )
        return VideoStoreError(f"the video store {self.display} could not {doing} ({first})")


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            yield block


def _s3_code(body: str) -> str:
    """S3's error code from an XML error body (never the body itself, which may echo a key)."""
    found = re.search(r"<Code>([A-Za-z]{1,64})</Code>", body)
    return found.group(1) if found else ""


def _spool_file(spool: Path) -> Path:
    spool.mkdir(parents=True, exist_ok=True)
    return spool / f".spool.{uuid.uuid4().hex}.part"


class _Writer:
    """A new file written a chunk at a time (sync writes of a chunk are cheap)."""

    def __init__(self, path: Path) -> None:
        self._fh = open(path, "xb")  # noqa: SIM115 - closed in __exit__

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()

    def write(self, chunk: bytes) -> None:
        self._fh.write(chunk)


def open_store(
    videos: str | os.PathLike[str] | StoreLocation | None = None,
    default_folder: Path | None = None,
) -> VideoStore:
    """The store `videos` names (see `parse_location`); nothing is contacted yet."""
    location = (
        videos if isinstance(videos, StoreLocation) else parse_location(videos, default_folder)
    )
    return VideoStore(location, _obstore(location))


def _obstore(location: StoreLocation) -> Any:
    from obstore.store import LocalStore, MemoryStore, S3Store

    if location.kind == "memory":
        return MemoryStore()
    if location.kind == "folder":
        assert location.folder is not None
        try:
            location.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise VideoStoreError(
                f"cannot create the video folder {location.folder}: {exc.strerror or exc}",
                retryable=False,
            ) from None
        return LocalStore(location.folder)
    for name in SECRET_ENV:
        remember(os.environ.get(name))
    # Everything else (keys, endpoint, region, AWS_ALLOW_HTTP) from the AWS environment.
    # A store that does not answer fails within seconds (the video is then kept here and
    # uploaded later), not after obstore's default three minutes of retries.
    return S3Store(
        location.bucket,
        prefix=location.prefix or None,
        client_options={
            "connect_timeout": timedelta(seconds=5),
            "timeout": timedelta(seconds=120),
            # Client options given here replace obstore's reading of this one variable.
            "allow_http": (os.environ.get("AWS_ALLOW_HTTP") or "").strip().lower() == "true",
        },
        retry_config={
            "max_retries": 2,
            "retry_timeout": timedelta(seconds=15),
            "backoff": {
                "init_backoff": timedelta(milliseconds=100),
                "max_backoff": timedelta(seconds=2),
                "base": 2,
            },
        },
    )
