"""The studio's static fallback: what a saved notebook shows where no kernel runs.

Unit checks of the HTML (escaping, posters re-encoded small, bounded size), then the real thing:
a notebook run in a real kernel (nbclient) whose studio generates a video, saved, exported with
`jupyter nbconvert --to html`, and read back.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from kling_studio.studio._fallback import MAX_TASKS, Fallback, small_poster, task_html

from ..conftest import make_picture

HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def jpeg_data_url(width: int = 320, height: int = 180) -> str:
    im = Image.new("RGB", (width, height))
    for x in range(width):  # a gradient, so the JPEG is not trivially small
        for y in range(0, height, 4):
            im.putpixel((x, y), (x % 256, y % 256, (x * y) % 256))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def card(local_id: str, **over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "local_id": local_id,
        "task_id": f"task-{local_id}",
        "status": "completed",
        "progress": 100,
        "prompt": f"Prompt {local_id}",
        "created": 1_757_165_031.0,
        "has_video": True,
        "error": None,
        "settings": {"resolution": "720p", "duration": 5, "generate_audio": False},
    }
    base.update(over)
    return base


def test_strings_from_users_and_servers_are_escaped() -> None:
    html = task_html(
        card("a", prompt=HOSTILE, user=HOSTILE, error={"code": HOSTILE, "message": HOSTILE}),
        None,
    )
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_a_poster_is_re_encoded_small_and_anything_else_is_dropped() -> None:
    big = jpeg_data_url()
    small = small_poster(big)
    assert small is not None and small.startswith("data:image/jpeg;base64,")
    raw = base64.b64decode(small.split(",", 1)[1])
    with Image.open(io.BytesIO(raw)) as im:
        assert im.format == "JPEG" and im.width == 160
    assert len(small) < 6_000 < len(big)
    png = io.BytesIO()
    Image.new("RGB", (32, 32)).save(png, "PNG")
    png_url = "data:image/jpeg;base64," + base64.b64encode(png.getvalue()).decode()
    for bad in (
        png_url,  # says JPEG, is a PNG
        "data:image/svg+xml;base64,PHN2Zz4=",
        "javascript:alert(1)",
        "https://example.com/p.jpg",
        "data:image/jpeg;base64,not base64!",
        None,
    ):
        assert small_poster(bad) is None, bad


def test_the_fallback_keeps_the_newest_tasks_and_a_few_kb_each() -> None:
    fb = Fallback("kling-studio")
    poster = jpeg_data_url()
    for i in range(MAX_TASKS + 6):
        fb.task(card(f"t{i:02}", created=1_757_165_031.0 + i, poster=poster))
    html = fb.html()
    assert html.count("<li ") == MAX_TASKS
    assert "Prompt t00" not in html and f"Prompt t{MAX_TASKS + 5:02}" in html
    assert len(html) / MAX_TASKS < 6_000
    # Progress alone changes nothing shown: no new output.
    assert fb.task(card("t29", created=1_757_165_031.0 + 29, poster=poster)) is False
    assert fb.task(card("t29", created=1_757_165_031.0 + 29, poster=poster, status="failed"))


NOTEBOOK_CELLS = [
    "from kling_studio import Studio\n"
    "studio = Studio(simulator=True, time_scale=0.01, history='history.sqlite3')\n"
    "studio",
    "studio.set_image('meadow.png')\n"
    "studio.update_form(prompt='A meadow in the wind <b>bold?</b>', duration=5)\n"
    "record = studio.generate(timeout=120)\n"
    "print(record.status)",
]


def test_a_saved_notebook_exported_to_html_shows_what_was_made(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    (tmp_path / "meadow.png").write_bytes(make_picture(800, 450, (60, 160, 80)))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in NOTEBOOK_CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOXAPI_")}
    env["KLING_STUDIO_HOME"] = str(tmp_path / "home")
    client = NotebookClient(nb, timeout=180, kernel_name="python3")
    client.execute(cwd=str(tmp_path), env=env)
    assert "completed" in "".join(o.get("text", "") for o in nb.cells[1].outputs)
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)

    # The studio's cell has the widget's output and, after it, the fallback, updated by the run.
    outputs = json.loads(path.read_text())["cells"][0]["outputs"]
    kinds = [sorted(o.get("data", {})) for o in outputs]
    assert any("application/vnd.jupyter.widget-view+json" in k for k in kinds), kinds
    fallback = [
        o for o in outputs if "kls-fallback" in "".join(o.get("data", {}).get("text/html", ""))
    ]
    assert len(fallback) == 1
    saved = "".join(fallback[0]["data"]["text/html"])
    assert 'data-status="completed"' in saved
    assert "A meadow in the wind &lt;b&gt;bold?&lt;/b&gt;" in saved
    assert len(saved) < 8_000, len(saved)

    subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "html", str(path)],
        check=True,
        capture_output=True,
        env=env,
    )
    page = (tmp_path / "saved.html").read_text()
    assert "kls-fallback" in page and "A meadow in the wind &lt;b&gt;bold?&lt;/b&gt;" in page
    assert "<video" not in page
    assert "data:video" not in page
