"""The optional CLIP measures with a stand-in encoder (no model is downloaded in tests): text
alignment follows the prompt, the aesthetic head is averaged over frames, the numbers are kept
beside the other measures; without the extra, asking says how to install it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kling_studio import AsyncClient, ConfigurationError, VideoRequest
from kling_studio import compare as cmp
from kling_studio.history._store import History
from kling_studio.media._clip import measure_with_clip, open_clip_encoder
from kling_studio.runner import Runner
from kling_studio.runner._measuring import add_clip_measures
from kling_studio.simulator import Simulator

from ..compare.test_compare import FAST
from .synthetic_clips import clip

COLOURS = {"red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0)}


class ColourEncoder:
    """Texts embed as the colours they name; pictures as their mean colour; the aesthetic
    score is brightness x 10. Enough to know what the answer must be."""

    def __init__(self) -> None:
        self.images_seen = 0

    def encode_text(self, texts: list[str]) -> np.ndarray:
        return np.array(
            [np.add.reduce([np.array(v) for k, v in COLOURS.items() if k in t] or [np.ones(3)])
             for t in texts],
            dtype=np.float32,
        )  # fmt: skip

    def encode_images(self, images: list[Image.Image]) -> np.ndarray:
        self.images_seen += len(images)
        return np.array(
            [np.asarray(im.convert("RGB"), dtype=np.float32).mean(axis=(0, 1)) for im in images]
        )

    def aesthetic(self, embeddings: np.ndarray) -> np.ndarray:
        return embeddings.sum(axis=1) * 10


def test_text_alignment_follows_the_prompt(tmp_path: Path) -> None:
    red = clip(tmp_path / "red.mp4", 24, lambda i: Image.new("RGB", (320, 180), (230, 20, 20)))
    encoder = ColourEncoder()
    matching = measure_with_clip(red, "a red barn", encoder)
    other = measure_with_clip(red, "a blue lake", encoder)
    assert encoder.images_seen == 16  # 8 frames each time
    assert matching["text_alignment"] is not None and other["text_alignment"] is not None
    assert matching["text_alignment"] > 0.95 > 0.2 > other["text_alignment"]
    # The head sees unit-length frame embeddings: (230, 20, 20) / its norm, summed, x10.
    expected = 10 * sum((230, 20, 20)) / float(np.linalg.norm((230, 20, 20)))
    assert matching["aesthetic"] == pytest.approx(expected, rel=0.02)


def test_without_the_extra_asking_says_how_to_install_it() -> None:
    pytest.importorskip("kling_studio")  # the default install: open_clip is not there
    try:
        import open_clip  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigurationError, match=r"kling-studio\[clip\]"):
            open_clip_encoder()
    else:  # pragma: no cover - an environment with the extra
        pytest.skip("the clip extra is installed here")


async def test_clip_measures_are_kept_beside_the_others(sim: Simulator, tmp_path: Path) -> None:
    sim.set_faults(None)
    history = History(tmp_path / "h.sqlite3")
    client = AsyncClient(sim.api_key, sim.base_url, poll_policy=FAST)
    runner = Runner(client, history)
    try:
        base = VideoRequest.build(prompt="red", image=Image.new("RGB", (640, 360), (220, 30, 30)))
        comparison = await cmp.run_grid(
            runner, client, cmp.plan_grid(base, prompts=["a red field", "a green field"])
        )
        await asyncio.wait_for(comparison.wait(), 60)
        await asyncio.wait_for(runner.measured(), 60)
        ids = [e.local_id or "" for e in comparison.entries]
        before = history.measures_of(ids)
        assert await asyncio.to_thread(add_clip_measures, history, ids, ColourEncoder()) == 2
        after = history.measures_of(ids)
        red, green = (after[i]["text_alignment"] for i in ids)
        assert red > green  # the video is red, whatever its prompt
        for i in ids:  # the other measures stay as they were
            assert after[i]["motion"] == before[i]["motion"]
            assert after[i]["aesthetic"] is not None
        table = cmp.compare_df(history, comparison.group_id)
        assert list(table["text_alignment"]) == pytest.approx([red, green])
    finally:
        await runner.aclose()
        await client.aclose()
        history.close()
