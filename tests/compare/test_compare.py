"""A/B grids: planning, running against the simulator, reuse, the table and the reports."""

from __future__ import annotations

import asyncio
import base64
import html.parser
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PIL import Image

from kling_studio import AsyncClient, InputError, VideoRequest
from kling_studio import compare as cmp
from kling_studio.client._polling import PollPolicy
from kling_studio.history._store import History
from kling_studio.history._view import view
from kling_studio.pictures import load_local_picture
from kling_studio.runner import Runner
from kling_studio.simulator import Simulator

from ..conftest import make_picture

FAST = PollPolicy(tail_max=0.05, min_interval=0.01)
HOSTILE = "<img src=x onerror=alert(1)>"
RED = make_picture(640, 360, (200, 40, 40))
BLUE = make_picture(640, 360, (40, 40, 200))


@pytest.fixture
async def parts(sim: Simulator, tmp_path: Path) -> AsyncIterator[tuple[Runner, AsyncClient]]:
    sim.set_faults(None)
    history = History(tmp_path / "h.sqlite3")
    client = AsyncClient(sim.api_key, sim.base_url, poll_policy=FAST)
    runner = Runner(client, history)
    yield runner, client
    sim.set_faults(None)
    await runner.aclose()
    await client.aclose()
    history.close()


def base(**changes: Any) -> VideoRequest:
    return VideoRequest.build(**({"prompt": "a calm lake", "image": RED} | changes))


def api_counts(sim: Simulator) -> dict[str, int]:
    counts: dict[str, int] = sim.stats()["requests"]
    return {route: counts.get(route, 0) for route in ("create", "get", "upload")}


# --- planning -------------------------------------------------------------------------------


def test_labels_run_like_spreadsheet_columns() -> None:
    assert [cmp.variant_label(i) for i in (0, 1, 25, 26, 27, 701, 702)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]


def test_a_grid_is_the_product_of_its_axes_in_order() -> None:
    grid = cmp.plan_grid(base(), prompts=["lake", "sea"], durations=[5, 10])
    assert [v.label for v in grid] == ["A", "B", "C", "D"]
    assert [(v.params["prompt"], v.params["duration"]) for v in grid] == [
        ("lake", 5),
        ("lake", 10),
        ("sea", 5),
        ("sea", 10),
    ]
    assert grid.differing() == ["prompt", "duration"]
    # params hold every field's value, not only the differing ones
    assert set(grid[0].params) == set(cmp.PARAM_NAMES)
    assert grid[0].params["resolution"] == "720p" and grid[0].params["image_tail"] is None
    assert grid.table()[3] == {"label": "D", "prompt": "sea", "duration": 10}
    assert grid[0].variant_json() == {"label": "A", "params": grid[0].params}
    json.dumps([v.params for v in grid])  # JSON-safe, pictures included


def test_axes_left_empty_keep_the_base_and_a_single_variant_differs_in_nothing() -> None:
    grid = cmp.plan_grid(base(duration=10), prompts=[], durations=None)
    assert len(grid) == 1 and grid.differing() == []
    assert grid[0].params["duration"] == 10


def test_pictures_axis_takes_first_frames_or_pairs() -> None:
    grid = cmp.plan_grid(
        base(image_tail=BLUE),
        images=[RED, (BLUE, None), (BLUE, RED)],
        picture_names={load_local_picture(RED, "image").sha256: "red.png"},
    )
    blue = load_local_picture(BLUE, "image").sha256
    blue = f"picture {load_local_picture(BLUE, 'image').sha256[:8]}"
    assert [v.params["image"] for v in grid] == ["red.png", blue, blue]
    assert grid[0].request.image_tail == BLUE  # a lone first frame keeps the base's tail
    assert grid[1].request.image_tail is None
    assert grid[2].request.image_tail == RED
    assert grid.differing() == ["image", "image_tail"]


def test_two_pictures_under_one_name_are_told_apart(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "frame.png").write_bytes(RED)
    (tmp_path / "b" / "frame.png").write_bytes(BLUE)
    grid = cmp.plan_grid(
        base(), images=[tmp_path / "a" / "frame.png", tmp_path / "b" / "frame.png"]
    )
    assert grid.differing() == ["image"]
    shown = [v.params["image"] for v in grid]
    assert shown[0] != shown[1] and all(s.startswith("frame.png (") for s in shown)


def test_explicit_variants_are_one_more_axis() -> None:
    grid = cmp.plan_grid(
        base(),
        variants=[{"prompt": "lake at dawn"}, {"prompt": "lake at dusk", "resolution": "1080p"}],
    )
    assert [(v.label, v.params["prompt"], v.params["resolution"]) for v in grid] == [
        ("A", "lake at dawn", "720p"),
        ("B", "lake at dusk", "1080p"),
    ]
    grid = cmp.plan_grid(base(), durations=[5, 10], variants=[{"prompt": "x"}, {"prompt": "y"}])
    assert len(grid) == 4 and grid.differing() == ["prompt", "duration"]


def test_every_problem_is_named_with_its_variants_before_anything_is_sent() -> None:
    with pytest.raises(InputError) as caught:
        cmp.plan_grid(
            base(),
            prompts=["ok", "x" * 2600],
            durations=[5, 7],
            images=[RED, make_picture(200, 200)],
        )
    text = str(caught.value)
    assert "2,600 characters" in text and "variants E, F, G, H" in text
    assert "got 7 (variants C, D, G, H)" in text
    assert "200x200 px" in text and "(variants B, D, F, H)" in text
    assert len(caught.value.problems) == 3  # each problem once, with the variants it breaks


def test_repeated_values_and_identical_variants_are_refused() -> None:
    with pytest.raises(InputError, match="listed twice"):
        cmp.plan_grid(base(), prompts=["a", "a"])
    with pytest.raises(InputError, match="variants A and B send the same request"):
        cmp.plan_grid(base(), variants=[{"prompt": "same"}, {"prompt": "same"}])
    with pytest.raises(InputError, match="unknown field"):
        cmp.plan_grid(base(), variants=[{"promt": "typo"}])
    with pytest.raises(InputError, match="must be a list"):
        cmp.plan_grid(base(), prompts="one prompt")  # type: ignore[arg-type]


async def test_the_plan_hash_is_the_hash_prepare_gives(
    parts: tuple[Runner, AsyncClient], tmp_path: Path
) -> None:
    _runner, client = parts
    path = tmp_path / "red.png"
    path.write_bytes(RED)
    pil = Image.new("RGB", (500, 400), (1, 2, 3))
    sources: list[Any] = [RED, path, str(path), pil]
    grid = cmp.plan_grid(base(image_tail=BLUE, negative_prompt="blur"), images=sources[:1])
    for source in sources:
        request = base(image=source, image_tail=BLUE, negative_prompt="blur")
        pics = {"image": load_local_picture(source, "image")}
        pics["image_tail"] = load_local_picture(BLUE, "image_tail")
        prepared = await client.prepare(request)
        assert cmp.identity_hash(request, pics) == prepared.hash
    assert grid[0].hash == (await client.prepare(grid[0].request)).hash
    client.check_remote_pictures = False
    url_request = base(image="https://example.invalid/a.png")
    assert cmp.identity_hash(url_request, {}) == (await client.prepare(url_request)).hash


# --- running ----------------------------------------------------------------------------------


async def test_a_grid_runs_each_variant_once_with_a_concurrency_limit(
    parts: tuple[Runner, AsyncClient], sim: Simulator
) -> None:
    runner, client = parts
    in_flight: dict[str, str] = {}
    most = 0

    def watch(card: dict[str, Any]) -> None:
        nonlocal most
        in_flight[card["local_id"]] = card["status"]
        live = [s for s in in_flight.values() if s in ("submitting", "pending", "processing")]
        most = max(most, len(live))

    runner.subscribe(watch)
    before = api_counts(sim)
    grid = cmp.plan_grid(base(), prompts=["lake", "sea"], durations=[5, 10])
    comparison = await cmp.run_grid(runner, client, grid, max_concurrency=2, group_id="g-1")
    assert comparison.group_id == "g-1" and comparison.running
    records = await asyncio.wait_for(comparison.wait(), 60)
    after = api_counts(sim)
    assert after["create"] - before["create"] == 4
    assert after["upload"] - before["upload"] == 1  # one picture, uploaded once
    assert most == 2
    assert all(r is not None and r.status == "completed" and r.has_video for r in records)
    for variant, record in zip(grid, records, strict=True):
        assert record is not None
        assert record.group_id == "g-1"
        assert record.variant == {"label": variant.label, "params": variant.params}
        assert record.request_hash == variant.hash
    assert not comparison.running and comparison.reused == 0


async def test_the_same_grid_again_is_reused_and_sends_nothing(
    parts: tuple[Runner, AsyncClient], sim: Simulator
) -> None:
    runner, client = parts
    grid = cmp.plan_grid(base(), durations=[5, 10])
    first = await cmp.run_grid(runner, client, grid)
    old = await asyncio.wait_for(first.wait(), 60)
    assert cmp.count_reusable(runner.history, grid) == 2
    before, rows = api_counts(sim), len(runner.history)
    again = await cmp.run_grid(runner, client, cmp.plan_grid(base(), durations=[5, 10]))
    assert not again.running and again.reused == 2
    assert [e.local_id for e in again.entries] == [r.local_id for r in old if r]
    assert api_counts(sim) == before and len(runner.history) == rows  # nothing sent, no new row
    df = again.df()
    assert df["reused"].all() and list(df["status"]) == ["completed", "completed"]

    paid = await cmp.run_grid(runner, client, grid, reuse=False)
    await asyncio.wait_for(paid.wait(), 60)
    assert api_counts(sim)["create"] - before["create"] == 2 and paid.reused == 0


async def test_a_task_whose_video_is_gone_is_not_reused(
    parts: tuple[Runner, AsyncClient],
) -> None:
    runner, client = parts
    grid = cmp.plan_grid(base())
    (record,) = await (await cmp.run_grid(runner, client, grid)).wait()
    assert record is not None and record.video_path is not None
    record.video_path.unlink()
    runner.history.set_download_error(record.local_id, "gone", expired=True)
    assert cmp.reusable(runner.history, grid[0].hash) is None
    again = await cmp.run_grid(runner, client, grid)
    assert again.reused == 0
    await asyncio.wait_for(again.wait(), 60)


async def test_a_picture_problem_stops_the_grid_before_any_create(
    parts: tuple[Runner, AsyncClient], sim: Simulator
) -> None:
    runner, client = parts
    before = api_counts(sim)["create"]
    grid = cmp.plan_grid(base(), images=[RED, f"{sim.base_url}/no/such/picture.png"])
    with pytest.raises(InputError, match="answered HTTP 404"):
        await cmp.run_grid(runner, client, grid)
    assert api_counts(sim)["create"] == before
    assert len(runner.history) == 0


async def test_bad_run_arguments_are_refused(parts: tuple[Runner, AsyncClient]) -> None:
    runner, client = parts
    grid = cmp.plan_grid(base())
    for bad in (0, 1.5, True):
        with pytest.raises(InputError, match="max_concurrency"):
            await cmp.run_grid(runner, client, grid, max_concurrency=bad)  # type: ignore[arg-type]
    for bad_id in ("../x", "a/b", "", "x" * 65):
        with pytest.raises(InputError, match="group id"):
            cmp.check_group_id(bad_id)
    with pytest.raises(InputError, match="empty"):
        await cmp.run_grid(runner, client, cmp.Grid())
    await cmp.run_grid(runner, client, grid, group_id="taken")
    with pytest.raises(InputError, match="exists already"):
        await cmp.run_grid(runner, client, grid, group_id="taken")
    await runner.join()


async def test_cancel_starts_no_more_variants(parts: tuple[Runner, AsyncClient]) -> None:
    runner, client = parts
    grid = cmp.plan_grid(base(), prompts=["a", "b", "c"])
    comparison = await cmp.run_grid(runner, client, grid, max_concurrency=1)
    for _ in range(200):
        if comparison.entries[0].local_id:
            break
        await asyncio.sleep(0.01)
    comparison.cancel()
    records = await asyncio.wait_for(comparison.wait(), 60)
    assert records[0] is not None and records[0].status == "completed"
    assert records[1:] == [None, None]
    assert [comparison.status(e) for e in comparison.entries][1:] == ["not_sent", "not_sent"]


async def test_a_variant_the_runner_refuses_does_not_stop_the_others(
    parts: tuple[Runner, AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    runner, client = parts
    start = runner.start
    calls = 0

    def picky(*args: Any, **kwargs: Any) -> str:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise InputError("refused for the test", "prompt")
        return start(*args, **kwargs)

    monkeypatch.setattr(runner, "start", picky)
    comparison = await cmp.run_grid(
        runner, client, cmp.plan_grid(base(), prompts=["a", "b", "c"]), max_concurrency=1
    )
    records = await asyncio.wait_for(comparison.wait(), 60)
    assert [r is not None for r in records] == [True, False, True]
    b = comparison.entries[1]
    assert comparison.status(b) == "failed" and "refused for the test" in (
        comparison.error(b) or ""
    )


async def test_a_failed_variant_shows_its_error(
    parts: tuple[Runner, AsyncClient], sim: Simulator
) -> None:
    runner, client = parts
    sim.set_faults("fail=1.0@create")
    comparison = await cmp.run_grid(runner, client, cmp.plan_grid(base(), durations=[5, 10]))
    await asyncio.wait_for(comparison.wait(), 60)
    df = comparison.df()
    assert list(df["status"]) == ["failed", "failed"]
    assert df["error_message"].notna().all()
    record = runner.history[comparison.entries[0].local_id or ""]
    assert view(record).error == {"code": record.error_code, "message": record.error_message}


# --- the plan on disk, ratings, the table -------------------------------------------------


async def test_a_comparison_reads_back_from_a_new_history_object(
    parts: tuple[Runner, AsyncClient], tmp_path: Path
) -> None:
    runner, client = parts
    comparison = await cmp.run_grid(runner, client, cmp.plan_grid(base(), durations=[5, 10]))
    await asyncio.wait_for(comparison.wait(), 60)
    with History(tmp_path / "h.sqlite3") as fresh:
        assert cmp.latest_group_id(fresh) == comparison.group_id
        plan = cmp.load_plan(fresh, comparison.group_id)
        assert [e.to_json() for e in plan.entries] == [e.to_json() for e in comparison.entries]
        assert plan.differing == ["duration"]
        df = cmp.compare_df(fresh, comparison.group_id)
        assert list(df["status"]) == ["completed", "completed"]
    with History(tmp_path / "other.sqlite3") as other:  # same folder, another history
        assert cmp.latest_group_id(other) is None
        with pytest.raises(InputError, match="no comparison"):
            cmp.load_plan(other, comparison.group_id)


async def test_a_group_without_a_plan_is_rebuilt_from_its_tasks(
    parts: tuple[Runner, AsyncClient],
) -> None:
    runner, client = parts
    for label, prompt in (("B", "sea"), ("A", "lake")):
        prepared = await client.prepare(base(prompt=prompt))
        runner.start(prepared, group_id="by-hand", variant={"label": label, "params": {}})
    runner.start(await client.prepare(base(prompt="no variant")), group_id="by-hand")
    await asyncio.wait_for(runner.join(), 60)
    plan = cmp.load_plan(runner.history, "by-hand")
    assert [e.label for e in plan.entries][:2] == ["A", "B"] and len(plan.entries) == 3
    assert plan.differing == ["prompt"]
    df = cmp.compare_df(runner.history, "by-hand")
    assert "prompt" in df.columns and len(df) == 3


async def test_ratings_are_checked_and_stored(parts: tuple[Runner, AsyncClient]) -> None:
    runner, client = parts
    comparison = await cmp.run_grid(runner, client, cmp.plan_grid(base(), durations=[5, 10]))
    await asyncio.wait_for(comparison.wait(), 60)
    a, b = (e.local_id or "" for e in comparison.entries)
    cmp.rate(runner.history, a, rating=5, winner=True, note="crisp, <b>calm</b>")
    cmp.rate(runner.history, b, rating=2)
    for bad in (0, 6, True, 3.5):
        with pytest.raises(InputError, match="1 to 5"):
            cmp.rate(runner.history, a, rating=bad)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="True or False"):
        cmp.rate(runner.history, a, winner="yes")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no task"):
        cmp.rate(runner.history, "nope", rating=3)
    cleared = cmp.rate(runner.history, a, clear_rating=True)
    assert (cleared.rating, cleared.winner, cleared.note) == (None, True, "crisp, <b>calm</b>")
    cmp.rate(runner.history, a, rating=4)

    df = comparison.df()
    assert list(df.columns[:2]) == ["label", "duration"]
    for name in ("status", "elapsed", "queue_seconds", "run_seconds", "rating", "winner"):
        assert name in df.columns
    for name in ("note", "local_id", "video_path", "finished_at", "reused"):
        assert name in df.columns
    assert list(df["rating"]) == [4, 2] and list(df["winner"]) == [True, False]
    assert df["note"][0] == "crisp, <b>calm</b>" and df["note"][1] == ""
    assert str(df["finished_at"].dtype) == "datetime64[us, UTC]"
    assert str(df["rating"].dtype) == "Int64" and df["elapsed"].dtype == "float64"
    assert df["video_path"].map(lambda p: Path(p).is_file()).all()


async def test_csv_export_round_trips(parts: tuple[Runner, AsyncClient], tmp_path: Path) -> None:
    runner, client = parts
    comparison = await cmp.run_grid(
        runner, client, cmp.plan_grid(base(), prompts=['it\'s "quoted", ok', "湖, 夜"])
    )
    await asyncio.wait_for(comparison.wait(), 60)
    path = comparison.export_csv(tmp_path / "out" / "ab.csv")
    back = pd.read_csv(path)
    assert list(back["label"]) == ["A", "B"]
    assert list(back["prompt"]) == ['it\'s "quoted", ok', "湖, 夜"]
    assert list(back["status"]) == ["completed", "completed"]
    assert cmp.export_csv(runner.history, comparison.group_id, tmp_path / "again.csv").is_file()


class Tags(html.parser.HTMLParser):
    """Every start tag with its attributes, and the text, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(text: str) -> Tags:
    tags = Tags()
    tags.feed(text)
    return tags


def jpeg_size(data_url: str) -> tuple[int, int]:
    prefix = "data:image/jpeg;base64,"
    assert data_url.startswith(prefix)
    with Image.open(io.BytesIO(base64.b64decode(data_url[len(prefix) :]))) as im:
        assert im.format == "JPEG"
        return im.size


async def test_the_html_report_is_self_contained_and_escapes_everything(
    parts: tuple[Runner, AsyncClient], tmp_path: Path
) -> None:
    runner, client = parts
    grid = cmp.plan_grid(base(negative_prompt=HOSTILE), prompts=[HOSTILE, "a 'calm' lake & sky"])
    comparison = await cmp.run_grid(runner, client, grid, title=f"title {HOSTILE}")
    records = await asyncio.wait_for(comparison.wait(), 60)
    first = records[0]
    assert first is not None
    cmp.rate(runner.history, first.local_id, rating=3, winner=True, note=f"note {HOSTILE}")
    path = comparison.export_html(tmp_path / "report.html")
    text = path.read_text("utf-8")

    assert HOSTILE not in text and "onerror=alert(1)&gt;" in text
    tags = parse(text)
    assert not [t for t, _ in tags.tags if t in ("script", "link", "iframe", "object", "embed")]
    images = [attrs for tag, attrs in tags.tags if tag == "img"]
    assert len(images) == 2
    for attrs in images:
        assert set(attrs) == {"class", "alt", "src"}
        width, height = jpeg_size(attrs["src"] or "")
        assert max(width, height) <= cmp.THUMB_MAX_SIDE
    for _tag, attrs in tags.tags:
        assert not any(name.startswith("on") for name in attrs)  # no event handler anywhere
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith("data:image/jpeg;base64,")
    csp = [a for t, a in tags.tags if t == "meta" and a.get("http-equiv")]
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")
    shown = "".join(tags.text)
    assert HOSTILE in shown  # the prompt, the title and the note are shown as text
    assert f"note {HOSTILE}" in shown and f"title {HOSTILE}" in shown
    assert "★★★☆☆" in shown and "winner" in shown
    assert "http://" not in text and "https://" not in text  # nothing to fetch


async def test_the_report_falls_back_to_the_picture_without_a_video(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.set_faults(None)
    history = History(tmp_path / "h.sqlite3")
    async with AsyncClient(sim.api_key, sim.base_url, poll_policy=FAST) as client:
        runner = Runner(client, history, download_videos=False)
        comparison = await cmp.run_grid(runner, client, cmp.plan_grid(base(), images=[RED, BLUE]))
        await asyncio.wait_for(comparison.wait(), 60)
        text = cmp.render_html(history, comparison.group_id, comparison=comparison)
        images = [a for t, a in parse(text).tags if t == "img"]
        colours = []
        for attrs in images:
            data = base64.b64decode((attrs["src"] or "").split(",", 1)[1])
            with Image.open(io.BytesIO(data)) as im:
                colours.append(im.convert("RGB").getpixel((10, 10)))
        assert len(colours) == 2 and colours[0][0] > 150 and colours[1][2] > 150  # red, blue
        # Read back from the history alone, the pictures are unknown: no preview, no fetch.
        bare = cmp.render_html(history, comparison.group_id)
        assert "no preview" in bare and "<img" not in bare
        await runner.aclose()
    history.close()


def test_thumbnails_of_broken_files_are_none(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    assert cmp.video_thumbnail(bad) is None
    assert cmp.picture_thumbnail("https://example.invalid/x.png") is None
    assert cmp.picture_thumbnail(b"nope") is None
