"""An uploaded picture's URL is reused only while it may still be alive (contract.py), and a task
that failed because its picture could not be fetched makes the next try upload it afresh; the
paid create is never re-sent behind the user's back."""

from __future__ import annotations

import asyncio
import time

import pytest

from kling_studio import AsyncClient
from kling_studio import contract as c
from kling_studio.simulator import Simulator

from ..conftest import make_picture


def uploads(sim: Simulator) -> int:
    return int(sim.stats()["requests"].get("upload", 0))


async def test_a_picture_is_uploaded_again_once_its_url_may_have_expired(
    fast_client: AsyncClient, fresh_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(c, "UPLOAD_URL_REUSE_S", 0.2, raising=False)
    fresh_sim.upload_ttl = 1.5  # alive for each task's fetch, even on a busy machine
    picture = make_picture(color=(1, 2, 3))
    first = await fast_client.generate(prompt="fresh upload", image=picture, timeout=30)
    again = await fast_client.generate(prompt="same picture, at once", image=picture, timeout=30)
    assert first.succeeded and again.succeeded
    before = uploads(fresh_sim)
    await asyncio.sleep(0.35)  # the kernel stays open; the upload's link dies
    later = await fast_client.generate(prompt="same picture, later", image=picture, timeout=30)
    assert later.succeeded
    assert uploads(fresh_sim) == before + 1


async def test_a_task_that_could_not_fetch_its_picture_makes_the_next_try_reupload(
    fast_client: AsyncClient, fresh_sim: Simulator
) -> None:
    fresh_sim.upload_ttl = 0.2  # shorter than the client's reuse window: the URL dies unseen
    picture = make_picture(color=(4, 5, 6))
    assert (await fast_client.generate(prompt="ok", image=picture, timeout=30)).succeeded
    await asyncio.sleep(0.3)
    creates = len(fresh_sim.created_tasks())
    failed = await fast_client.generate(prompt="dead link", image=picture, timeout=30)
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.code == "image_fetch_failed"
    assert "trying again uploads the picture afresh" in failed.error.message
    assert "not re-sent" in failed.error.message
    assert len(fresh_sim.created_tasks()) == creates + 1  # no silent second paid create
    before = uploads(fresh_sim)
    retried = await fast_client.generate(prompt="dead link, again", image=picture, timeout=30)
    assert retried.succeeded and uploads(fresh_sim) == before + 1


def picture_lookups(sim: Simulator) -> int:
    return int(sim.stats()["requests"].get("files", 0))


async def test_an_older_cached_link_is_asked_first_and_a_dead_one_uploaded_again(
    fast_client: AsyncClient, fresh_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The link dies long before the hour of reuse (how long FoxAPI keeps an upload is not
    documented): a link older than the check age is asked (HEAD) before a paid create uses it."""
    monkeypatch.setattr(c, "UPLOAD_URL_CHECK_AFTER_S", 0.1)
    fresh_sim.upload_ttl = 5.0
    picture = make_picture(color=(7, 8, 9))
    uploaded_at = time.monotonic()
    assert (await fast_client.generate(prompt="first", image=picture, timeout=30)).succeeded
    uploaded, fetched = uploads(fresh_sim), picture_lookups(fresh_sim)
    await asyncio.sleep(0.15)  # older than the check age, still alive: asked, then reused
    assert (await fast_client.generate(prompt="alive", image=picture, timeout=30)).succeeded
    assert time.monotonic() - uploaded_at < 5.0, "too slow a machine for this test's timing"
    assert uploads(fresh_sim) == uploaded and picture_lookups(fresh_sim) > fetched
    await asyncio.sleep(max(0.0, uploaded_at + 5.1 - time.monotonic()))  # now dead
    creates = len(fresh_sim.created_tasks())
    later = await fast_client.generate(prompt="after the link died", image=picture, timeout=30)
    assert later.succeeded, later.error  # before: image_fetch_failed on a paid create
    assert uploads(fresh_sim) == uploaded + 1
    assert len(fresh_sim.created_tasks()) == creates + 1
