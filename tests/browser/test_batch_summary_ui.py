"""A batch's comparison in a real browser: each cell shows its video's measures, the variants'
table sorts by a measure and filters, and the summary draws a chart per axis with the test's
verdict; a hostile prompt stays text everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from . import harness

HOSTILE = "<img src=x onerror=alert(1)>"

NOTEBOOK_CELLS = [
    f"""import pandas as pd
from PIL import Image, ImageDraw

def hills(size=(640, 360)):
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(size[1]):
        t = y / size[1]
        draw.line([(0, y), (size[0], y)], fill=(int(90 + 150 * t), int(120 + 90 * t), 200))
    for i, x in enumerate(range(-60, size[0], 120)):
        draw.ellipse([x, 200 + 20 * (i % 2), x + 280, 480], fill=(40 + 12 * i, 110, 60))
    return image

table = pd.DataFrame({{
    "animal": ["fox", {HOSTILE!r}, "fox", {HOSTILE!r}],
    "duration": [5, 5, 10, 10],
}})
""",
    """from kling_studio import Studio, compare
from kling_studio.history import History

studio = Studio(time_scale=0.05)
studio.set_image(hills())
studio.update_form(prompt="A {animal} on the hills")
result = studio.batch(table, progress=False)
for person, (short, long) in {"ana": (1, 5), "ben": (2, 4), "cy": (1, 5), "dee": (2, 5)}.items():
    with History(studio.history.path, user=person) as theirs:
        for _, row in result.iterrows():
            compare.rate(theirs, row["local_id"], rating=long if row["duration"] == 10 else short)
studio.show_comparison()
print(result[["duration", "status"]].to_string(index=False))
""",
    "studio",
]


@pytest.mark.browser
def test_a_batch_shows_measures_a_sortable_table_and_the_summary(
    page: Page,
    jupyter_server: harness.JupyterServer,
    console_log: harness.ConsoleLog,
    tmp_path: Path,
) -> None:
    source = harness.make_notebook(tmp_path / "batch_summary.ipynb", NOTEBOOK_CELLS)
    name = harness.copy_notebook(
        source, jupyter_server, env={"KLING_STUDIO_HOME": str(tmp_path / "home")}
    )
    harness.open_notebook(page, jupyter_server, name, "lab")
    harness.run_all(page, "lab", timeout=150_000)
    harness.wait_for_widget(page, "[data-testid=kls-root]")
    if page.locator("[data-testid=kls-compare-body]").is_hidden():
        page.locator("[data-testid=kls-tab-compare]").click()
    cells = page.locator("[data-testid=kls-compare-cell]")
    expect(cells).to_have_count(4, timeout=30_000)
    measures = page.locator("[data-testid=kls-compare-measures]")
    for i in range(4):
        expect(measures.nth(i)).to_contain_text("first frame", timeout=30_000)
        expect(measures.nth(i)).to_contain_text("motion")

    axes = page.locator("[data-testid=kls-summary-axis]")
    expect(axes).to_have_count(2, timeout=30_000)  # prompt and duration differ
    duration = page.locator("[data-testid=kls-summary-axis][data-axis=duration]")
    expect(duration.locator("svg rect")).to_have_count(2)
    expect(duration.locator("[data-testid=kls-summary-verdict]")).to_contain_text("more than noise")
    prompt = page.locator("[data-testid=kls-summary-axis][data-axis=prompt]")
    expect(prompt).to_contain_text(HOSTILE)  # as text
    assert page.locator("img[src=x]").count() == 0

    rows = page.locator("[data-testid=kls-measures-row]")
    expect(rows).to_have_count(4)
    page.locator("[data-testid=kls-measures-table] th[data-key=rating_mean]").click()
    labels = rows.evaluate_all("(rs) => rs.map((r) => r.dataset.label)")
    means = rows.evaluate_all("(rs) => rs.map((r) => Number(r.children[1].textContent))")
    assert means == sorted(means, reverse=True), (labels, means)
    page.locator("[data-testid=kls-measures-filter]").fill("fox")
    expect(rows).to_have_count(2)
    harness.screenshot(page, "batch_summary")
    console_log.assert_no_errors()
