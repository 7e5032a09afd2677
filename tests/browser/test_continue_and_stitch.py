"""Going on from a result, and joining results, in a real browser (JupyterLab 4 and Notebook 7)
with a real kernel on the simulator.

- Continue: a finished clip is opened from the gallery, "Continue from last frame" puts its last
  frame in the first-frame slot (name, size, thumbnail, checks), Generate sends a task whose
  first frame *is* that frame (the bytes the simulator received are the PNG of the video's last
  frame), and "Use as last frame" on the clip that came out fills the other slot the same way.
- Stitch: two finished clips are picked in the gallery (Select, then a tile and a checkbox, in
  play order), "Join 2 clips" makes one MP4 that the player plays (the first clip, then the
  second), the gallery shows, and the history records with its parts (`stitched_from`) in the
  order picked; the player lists the parts, and each opens from there.

Screenshots go to artifacts/screenshots/ (continue-* and stitch-*).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from . import harness
from .test_studio import play
from .test_studio_layout import collapse_lab_sidebar, shoot

# Fast clips: a 5 s task takes a few seconds on the simulator's clock at this scale.
TIME_SCALE = 0.02

SETUP_CELL = """\
from kling_studio import Studio
studio = Studio(simulator=True, history="history-{tag}.sqlite3", time_scale={scale}, resume=False)
studio
"""

ONE_CLIP_CELL = """\
studio.set_image("{warm}")
studio.update_form(prompt="A lighthouse on a cliff at dusk, the camera drifting left", duration=5)
first = studio.generate(timeout=240)
print(first.status, first.local_id)
"""

TWO_CLIPS_CELL = """\
studio.set_image("{warm}")
studio.update_form(prompt="Clip one: a kite climbs over the dunes", duration=5)
one = studio.submit()
studio.set_image("{cool}")
studio.update_form(prompt="Clip two: the kite dives toward the sea", duration=5)
two = studio.submit()
studio.wait_all(timeout=240)
print(studio.history[one].status, studio.history[two].status)
"""

# What the simulator received as a task's picture (the URL in the create body it logged, and
# the bytes behind it), what the history noted of it, and the last frame of the clip it was taken
# from, encoded as the studio encodes it (PNG: lossless, so the bytes must be equal).
SENT_FRAME_CODE = """\
import hashlib, json, urllib.request
from kling_studio.media import last_frame
from kling_studio.pictures import encode_pil
source = studio.history[{source!r}]
task = studio.history[{task!r}]
expected = encode_pil(last_frame(source.video_path), {slot!r})
created = urllib.request.urlopen(studio._backend.base_url + "/_sim/tasks").read()
bodies = [t["body"] for t in json.loads(created) if t["id"] == task.task_id]
url = bodies[0][{slot!r} + "_url"]
with urllib.request.urlopen(url) as answer:
    sent = answer.read()
print(json.dumps({{
    "status": task.status,
    "payload_url": task.payload.get({slot!r} + "_url"),
    "simulator_saw": url,
    "history_noted": task.request.get({slot!r}),
    "sent_sha": hashlib.sha256(sent).hexdigest(),
    "expected_sha": expected.sha256,
    "expected_size": [expected.width, expected.height],
    "format": expected.format,
}}))
"""


def check_sent_frame(sent: dict[str, Any]) -> None:
    assert sent["status"] == "completed", sent
    assert sent["payload_url"] == sent["simulator_saw"], sent
    assert sent["format"] == "PNG", sent
    assert sent["sent_sha"] == sent["expected_sha"], sent
    assert f"sha256:{sent['expected_sha'][:12]}" in sent["history_noted"], sent


RECORD_CODE = """\
import json
r = studio.history[{local_id!r}]
saved = bool(r.video_path and r.video_path.is_file())
print(json.dumps({{"status": r.status, "stitched_from": r.stitched_from, "has_video": r.has_video,
                   "video_file": saved, "prompt": r.prompt, "duration": r.duration}}))
"""

SIZE_JS = "(e) => [e.naturalWidth, e.naturalHeight]"

# The mean colour of the top half of the video's frame at `t` seconds (above the simulator's
# caption band), drawn from the <video> element itself: what the player shows there.
FRAME_COLOUR_JS = """async (v, t) => {
  await new Promise((done) => { v.addEventListener('seeked', done, {once: true});
                                v.pause(); v.currentTime = t; });
  const c = document.createElement('canvas');
  c.width = 64; c.height = 18;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0, v.videoWidth, v.videoHeight / 2, 0, 0, 64, 18);
  const d = g.getImageData(0, 0, 64, 18).data;
  const sum = [0, 0, 0];
  for (let i = 0; i < d.length; i += 4) { sum[0] += d[i]; sum[1] += d[i + 1]; sum[2] += d[i + 2]; }
  return sum.map((x) => Math.round(x / (d.length / 4)));
}"""

# Warm and cool scenes: a clip made from one is told from a clip made from the other by colour.
WARM = ((250, 170, 80), (120, 70, 40))  # sky, ground
COOL = ((60, 110, 200), (20, 50, 90))


def scene_picture(path: Path, sky: tuple[int, int, int], ground: tuple[int, int, int]) -> None:
    """A 960x540 landscape: a sky fading to the horizon, the ground, a sun and a tower."""
    from PIL import Image, ImageDraw

    width, height = 960, 540
    image = Image.new("RGB", (width, height), ground)
    draw = ImageDraw.Draw(image)
    horizon = 340
    for y in range(horizon):
        k = y / horizon
        draw.line([(0, y), (width, y)], fill=tuple(int(c * (1 - 0.35 * k) + 60 * k) for c in sky))
    for y in range(horizon, height, 14):
        draw.line([(0, y), (width, y)], fill=tuple(min(255, c + 25) for c in ground), width=3)
    draw.ellipse([620, 150, 720, 250], fill=(255, 236, 180))
    draw.polygon([(230, horizon), (262, 120), (290, 120), (322, horizon)], fill=(235, 235, 225))
    draw.rectangle([250, 96, 302, 122], fill=(200, 40, 40))
    image.save(path)


def kernel_json(page: Page, code: str) -> dict[str, Any]:
    out = harness.kernel_exec(page, code).strip().splitlines()
    assert out, "the kernel printed nothing"
    result: dict[str, Any] = json.loads(out[-1])
    return result


def open_studio(
    page: Page, server: harness.JupyterServer, ui: harness.UI, tmp_path: Path, cell: str
) -> Locator:
    """A notebook that makes a studio on the simulator and runs `cell`; returns the studio."""
    tag = f"{ui}-{tmp_path.name}"
    warm, cool = f"warm-{tag}.png", f"cool-{tag}.png"
    scene_picture(server.root_dir / warm, *WARM)
    scene_picture(server.root_dir / cool, *COOL)
    source = harness.make_notebook(
        tmp_path / f"clips-{ui}.ipynb",
        [SETUP_CELL.format(tag=tag, scale=TIME_SCALE), cell.format(warm=warm, cool=cool)],
    )
    name = harness.copy_notebook(source, server)
    harness.open_notebook(page, server, name, ui)
    collapse_lab_sidebar(page, ui)
    harness.run_all(page, ui, timeout=240_000)
    return harness.wait_for_widget(page, "[data-testid=kls-root]")


def tile(root: Locator, local_id: str) -> Locator:
    return root.locator(f"[data-testid=kls-card][data-local-id='{local_id}']")


def open_tile(root: Locator, local_id: str) -> None:
    """Clicks a result in the gallery: the player shows it."""
    tile(root, local_id).locator(".kls-tile-prompt").click()
    expect(root.locator("[data-testid=kls-stage]")).to_have_attribute("data-local-id", local_id)


def generate_from_widget(root: Locator, prompt: str, before: str) -> str:
    """Types a prompt, presses Generate, waits until the new task (the player follows it)
    has finished; returns its local id."""
    root.locator("[data-testid=kls-prompt]").fill(prompt)
    generate = root.locator("[data-testid=kls-generate]")
    expect(generate).to_be_enabled(timeout=15_000)
    generate.click()
    stage = root.locator("[data-testid=kls-stage]")
    expect(stage).not_to_have_attribute("data-local-id", before, timeout=30_000)
    expect(stage).to_contain_text(prompt, timeout=30_000)
    expect(stage).to_have_attribute("data-status", "completed", timeout=120_000)
    local_id = stage.get_attribute("data-local-id")
    assert local_id
    return local_id


def check_slot_shows_last_frame(
    root: Locator, slot: str, testid: str, source_id: str, size: list[int]
) -> None:
    """The slot names the frame, gives its size, shows its thumbnail and passes its checks."""
    box = root.locator(f".kls-slot[data-slot={slot}]")
    facts = box.locator(".kls-facts")
    width, height = size
    expect(facts).to_contain_text(f"last frame of {source_id[:8]}.png", timeout=15_000)
    expect(facts).to_contain_text(f"{width} × {height} px")
    thumb = box.locator(f"[data-testid={testid}-drop] img")
    expect(thumb).to_be_visible()
    assert (thumb.get_attribute("src") or "").startswith("data:image/"), "no thumbnail"
    thumb.evaluate("(img) => img.decode()")
    shown_w, shown_h = thumb.evaluate(SIZE_JS)
    assert shown_w > 0 and abs(shown_w / shown_h - width / height) < 0.02, (shown_w, shown_h)
    checks = box.locator(f"[data-testid={testid}-checks] li")
    expect(checks.first).to_be_visible()
    expect(box.locator(f"[data-testid={testid}-checks] li[data-ok=false]")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.parametrize("ui", harness.UIS)
def test_continue_from_a_result_and_use_its_last_frame(
    ui: harness.UI,
    page: Page,
    jupyter_server: harness.JupyterServer,
    console_log: harness.ConsoleLog,
    tmp_path: Path,
) -> None:
    root = open_studio(page, jupyter_server, ui, tmp_path, ONE_CLIP_CELL)
    first_id = kernel_json(page, "import json; print(json.dumps({'id': first.local_id}))")["id"]
    stage = root.locator("[data-testid=kls-stage]")

    # The finished clip, opened from the gallery: "Continue from last frame" fills the first
    # frame with its last frame.
    expect(tile(root, first_id)).to_have_attribute("data-status", "completed", timeout=60_000)
    open_tile(root, first_id)
    continue_button = stage.locator("[data-testid=kls-continue]")
    expect(continue_button).to_be_visible()
    continue_button.click()
    expect(stage.locator("[data-testid=kls-stage-answer]")).to_contain_text(
        "now the first frame", timeout=30_000
    )
    frame = kernel_json(
        page,
        f"from kling_studio.media import last_frame; import json\n"
        f"im = last_frame(studio.history[{first_id!r}].video_path)\n"
        "print(json.dumps({'size': list(im.size)}))",
    )
    check_slot_shows_last_frame(root, "image", "kls-image", first_id, frame["size"])
    page.mouse.move(0, 0)
    shoot(page, root, f"continue-{ui}-last-frame-in-first-frame-slot")

    # Generate: the task the simulator got starts from exactly that frame.
    second_id = generate_from_widget(
        root, "The lighthouse beam sweeps the sea as night falls", first_id
    )
    sent = kernel_json(page, SENT_FRAME_CODE.format(source=first_id, task=second_id, slot="image"))
    check_sent_frame(sent)
    assert sent["expected_size"] == frame["size"], sent
    state = play(page, stage.locator("[data-testid=kls-video]"))
    assert 4.5 <= state["duration"] <= 5.5, state
    page.mouse.move(0, 0)
    shoot(page, root, f"continue-{ui}-next-clip-playing")

    # "Use as last frame" on the clip that came out: the last-frame slot, the first untouched.
    stage.locator("[data-testid=kls-use-tail]").click()
    expect(stage.locator("[data-testid=kls-stage-answer]")).to_contain_text(
        "now the last frame", timeout=30_000
    )
    check_slot_shows_last_frame(root, "image_tail", "kls-tail", second_id, frame["size"])
    check_slot_shows_last_frame(root, "image", "kls-image", first_id, frame["size"])
    page.mouse.move(0, 0)
    shoot(page, root, f"continue-{ui}-both-slots-from-results")

    third_id = generate_from_widget(root, "From dusk to night, one slow move", second_id)
    tail = kernel_json(
        page, SENT_FRAME_CODE.format(source=second_id, task=third_id, slot="image_tail")
    )
    check_sent_frame(tail)
    head = kernel_json(page, SENT_FRAME_CODE.format(source=first_id, task=third_id, slot="image"))
    check_sent_frame(head)
    assert tail["expected_sha"] != head["expected_sha"], "the two clips end on the same frame"

    console_log.assert_no_errors()


@pytest.mark.browser
@pytest.mark.parametrize("ui", harness.UIS)
def test_stitch_selected_results_into_one_video(
    ui: harness.UI,
    page: Page,
    jupyter_server: harness.JupyterServer,
    console_log: harness.ConsoleLog,
    tmp_path: Path,
) -> None:
    root = open_studio(page, jupyter_server, ui, tmp_path, TWO_CLIPS_CELL)
    ids = kernel_json(page, "import json; print(json.dumps([one, two]))")
    one, two = ids
    for local_id in ids:
        expect(tile(root, local_id)).to_have_attribute("data-status", "completed", timeout=60_000)

    # Select mode; the clips in play order: a click on the older tile, then the newer's checkbox.
    root.locator("[data-testid=kls-select-mode]").click()
    tile(root, one).locator(".kls-tile-prompt").click()
    tile(root, two).locator("[data-testid=kls-tile-check]").check()
    expect(tile(root, one)).to_have_class(re.compile(r"\bkls-picked\b"))
    expect(tile(root, two)).to_have_class(re.compile(r"\bkls-picked\b"))
    join = root.locator("[data-testid=kls-join]")
    expect(join).to_have_text("Join 2 clips")
    expect(join).to_be_enabled()
    page.mouse.move(0, 0)
    shoot(page, root, f"stitch-{ui}-two-clips-selected")

    # Join: a new result, opened in the player, first in the gallery.
    join.click()
    expect(root.locator("[data-testid=kls-join-answer]")).to_have_text(
        "Joined 2 clips.", timeout=60_000
    )
    stage = root.locator("[data-testid=kls-stage]")
    expect(stage).not_to_have_attribute("data-local-id", re.compile(f"^({one}|{two})$"))
    stitched = stage.get_attribute("data-local-id")
    assert stitched
    expect(stage).to_have_attribute("data-status", "completed")
    expect(stage).to_contain_text("Clip one: a kite climbs over the dunes | Clip two")
    cards = root.locator("[data-testid=kls-card]")
    expect(cards.first).to_have_attribute("data-local-id", stitched, timeout=30_000)
    expect(cards.first.locator("[data-testid=kls-poster]")).to_be_visible()
    expect(join).to_be_hidden()

    # It plays like any result: about the two clips' length together, and time goes on; the
    # player shows the warm clip first, then the cool one.
    video = stage.locator("[data-testid=kls-video]")
    state = play(page, video)
    assert 9.5 <= state["duration"] <= 10.5, state
    first_half = video.evaluate(FRAME_COLOUR_JS, 2.0)
    second_half = video.evaluate(FRAME_COLOUR_JS, 7.5)
    assert first_half[0] > first_half[2] + 40, first_half  # warm: red over blue
    assert second_half[2] > second_half[0] + 40, second_half  # cool: blue over red
    page.mouse.move(0, 0)
    shoot(page, root, f"stitch-{ui}-joined-clip-at-the-second-part")

    # The history keeps it, saved, with its parts in the order they were picked.
    record = kernel_json(page, RECORD_CODE.format(local_id=stitched))
    assert record["status"] == "completed", record
    assert record["stitched_from"] == [one, two], record
    assert record["has_video"] and record["video_file"], record
    assert record["duration"] == 10, record

    # The player names the parts, in play order; each opens there.
    parts = stage.locator("[data-testid=kls-stage-part]")
    expect(stage.locator("[data-testid=kls-stage-parts]")).to_contain_text(
        "Joined from 2 clips: 1. Clip one: a kite climbs over the dunes + 2. Clip two"
    )
    assert [parts.nth(i).get_attribute("data-local-id") for i in range(2)] == [one, two]
    parts.nth(1).click()
    expect(stage).to_have_attribute("data-local-id", two)
    expect(tile(root, two)).to_have_class(re.compile(r"\bkls-current\b"))

    console_log.assert_no_errors()
