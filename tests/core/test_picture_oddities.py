"""Pictures that pass every documented rule but decode differently from one decoder to the next
are sent upright as plain 8-bit RGB(A); a decompression bomb is one sentence, never a traceback."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from kling_studio import InputError
from kling_studio.pictures import load_local_picture


def encoded(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_cmyk_jpeg_is_sent_as_rgb_with_the_same_colours() -> None:
    red = Image.new("RGB", (640, 360), (220, 20, 20))
    pic = load_local_picture(encoded(red.convert("CMYK"), "JPEG", quality=95), "image")
    sent = decoded(pic.data)
    assert sent.mode == "RGB"
    assert all(abs(a - b) < 12 for a, b in zip(sent.getpixel((10, 10)), (220, 20, 20), strict=True))


def test_a_16_bit_png_is_scaled_to_8_bits_not_clipped_to_white() -> None:
    grey = Image.fromarray(np.full((360, 640), 32768, dtype=np.uint16))
    pic = load_local_picture(encoded(grey), "image")
    value = decoded(pic.data).convert("L").getpixel((5, 5))
    assert 120 <= value <= 136  # half of full scale, as the picture shows it
    assert pic.thumbnail_jpeg()  # the widget's thumbnail is made without an error


def test_a_palette_picture_with_transparency_keeps_its_alpha() -> None:
    palette = Image.new("P", (640, 360), 0)
    pic = load_local_picture(encoded(palette, transparency=0), "image")
    assert decoded(pic.data).mode == "RGBA"
    assert decoded(pic.data).getpixel((0, 0))[3] == 0


def test_an_exif_rotated_photo_is_sent_upright() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    wide = Image.new("RGB", (640, 360), (0, 0, 200))
    pic = load_local_picture(encoded(wide, "JPEG", exif=exif.tobytes()), "image")
    assert (pic.width, pic.height) == (360, 640)
    assert decoded(pic.data).getexif().get(0x0112, 1) == 1


def test_a_plain_picture_is_sent_byte_for_byte() -> None:
    data = encoded(Image.new("RGB", (640, 360), (1, 2, 3)))
    assert load_local_picture(data, "image").data == data


def claiming(side: int) -> bytes:
    """A tiny PNG whose header claims side x side pixels (its CRC fixed, so it parses)."""
    png = encoded(Image.new("1", (1, 1)))
    header = struct.pack(">II", side, side) + png[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return png[:16] + header + crc + png[33:]


@pytest.mark.parametrize("side", [10_000, 20_000])
def test_a_decompression_bomb_is_one_sentence(side: int) -> None:
    bomb = claiming(side)
    assert len(bomb) < 200  # tiny on disk, 100 to 400 megapixels once decoded
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a warning escapes
        with pytest.raises(InputError, match="too many to decode safely") as info:
            load_local_picture(bomb, "image")
    assert "\n" not in str(info.value)


def test_a_16_bit_pil_image_is_not_clipped() -> None:
    grey = Image.fromarray(np.full((360, 640), 32768, dtype=np.uint16))
    pic = load_local_picture(grey, "image")
    assert 120 <= decoded(pic.data).convert("L").getpixel((5, 5)) <= 136
