"""A batch's table, read and checked before anything is sent (no network here: pictures are
local files or URLs that are only checked when the batch runs)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kling_studio import InputError
from kling_studio import compare as cmp

from ..conftest import make_picture

URL = "https://example.com/first.png"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "a.png").write_bytes(make_picture(640, 360))
    return tmp_path


def test_wire_and_command_line_column_names_both_work(folder: Path) -> None:
    wire = pd.DataFrame(
        {
            "prompt": ["x"],
            "image_url": [URL],
            "image_tail_url": [URL.replace("first", "last")],
            "generate_audio": [True],
            "voice_ids": [["v1", "v2"]],
            "duration": [10.0],  # a number column pandas read as floats
        }
    )
    (row,) = cmp.check_table(wire).rows
    request = row.variant.request
    assert request.image == URL and request.image_tail == URL.replace("first", "last")
    assert request.generate_audio is True and request.voice_ids == ("v1", "v2")
    assert request.duration == 10 and row.where == "row 0"

    path = folder / "cli.csv"
    path.write_text("prompt,image,tail,audio,voice,negative-prompt\nx,a.png,a.png,yes,v1;v2,blur\n")
    (row,) = cmp.check_table(path).rows
    request = row.variant.request
    assert request.image == str(folder / "a.png")  # relative to the CSV's folder
    assert request.generate_audio is True and request.voice_ids == ("v1", "v2")
    assert request.negative_prompt == "blur" and row.where == "line 2"


def test_templates_fill_from_other_columns_and_keep_doubled_braces(folder: Path) -> None:
    path = folder / "t.csv"
    path.write_text('who,where,image\nfox,"snowy\nhill",a.png\nowl,wood,a.png\n')
    table = cmp.check_table(path, {"prompt": "{{scene}} a {who} on a {where}"})
    assert [r.variant.request.prompt for r in table.rows] == [
        "{scene} a fox on a snowy\nhill",
        "{scene} a owl on a wood",
    ]
    # A quoted cell over two lines: the next row is still named by its real line.
    assert [r.where for r in table.rows] == ["line 2", "line 4"]


def test_every_bad_row_is_named_at_once(folder: Path) -> None:
    path = folder / "bad.csv"
    path.write_text(
        "prompt,image,duration\ngood,a.png,5\nsame,a.png,5\nsame,a.png,5\n{who:>3},a.png,5\nx,,5\n"
    )
    with pytest.raises(InputError) as caught:
        cmp.check_table(path)
    problems = [str(p) for p in caught.value.problems]
    assert any(p.startswith("line 4: sends the same request as line 3") for p in problems)
    assert any(p.startswith("line 5: prompt: {who:>3} is not a column name") for p in problems)
    assert any(p.startswith("line 6: image: is empty and there is no default") for p in problems)
    assert not any(p.startswith(("line 2", "line 3:")) for p in problems)


def test_the_table_itself_is_checked(folder: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        cmp.check_table(folder / "nope.csv")
    (folder / "empty.csv").write_text("prompt,image\n")
    with pytest.raises(InputError, match="has no rows"):
        cmp.check_table(folder / "empty.csv")
    (folder / "twice.csv").write_text("image,image_url,prompt\na.png,a.png,x\n")
    with pytest.raises(InputError, match="both give image"):
        cmp.check_table(folder / "twice.csv")
    with pytest.raises(InputError, match="DataFrame or a CSV"):
        cmp.check_table([{"prompt": "x"}])  # type: ignore[arg-type]
