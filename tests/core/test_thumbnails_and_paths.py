"""One JPEG thumbnail maker (studio previews, HTML report) and one simulator history path (CLI,
studio)."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest
from PIL import Image

from kling_studio import compare as cmp
from kling_studio import config
from kling_studio.cli._common import history_for as _history_for
from kling_studio.history._store import DB_NAME
from kling_studio.pictures import jpeg_thumbnail, read_picture

from ..conftest import make_picture


def test_a_thumbnail_is_a_small_jpeg_with_the_pictures_shape() -> None:
    image = Image.new("RGBA", (1200, 600), (10, 200, 30, 255))
    jpeg = jpeg_thumbnail(image, 160)
    with Image.open(io.BytesIO(jpeg)) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (160, 80)
    assert image.size == (1200, 600)  # the caller's image is left alone


def test_the_studio_and_the_report_make_the_same_thumbnail() -> None:
    data = make_picture(900, 450)
    with Image.open(io.BytesIO(data)) as image:
        expected = jpeg_thumbnail(image, cmp.THUMB_MAX_SIDE)
    assert read_picture(data, "image").thumbnail_jpeg(cmp.THUMB_MAX_SIDE) == expected
    assert cmp.picture_thumbnail(data) == expected


def test_the_cli_and_the_studio_share_the_simulator_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path))
    assert config.HISTORY_FILE == DB_NAME
    simulated = config.history_path(simulator=True)
    assert simulated == tmp_path / "simulator" / DB_NAME
    assert config.history_path() == tmp_path / DB_NAME
    with _history_for(argparse.Namespace(home=None, simulator=True)) as history:
        assert history.path == simulated
    with _history_for(argparse.Namespace(home=str(tmp_path / "h"), simulator=True)) as history:
        assert history.path == tmp_path / "h" / "simulator" / DB_NAME
