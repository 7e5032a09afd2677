"""Every rule of docs/contract.md sections 1 and 6, and every result shape of section 2."""

from __future__ import annotations

from typing import Any

import pytest

from kling_studio import InputError, Task, VideoRequest
from kling_studio.models import request_hash
from kling_studio.pictures import load_local_picture

from ..conftest import make_picture

URL = "https://example.com/start.jpg"


def problems(**fields: Any) -> list[str]:
    fields.setdefault("prompt", "a cat")
    fields.setdefault("image", URL)
    return [str(p) for p in VideoRequest.build(**fields).problems()]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"prompt": ""}, "prompt: is required"),
        ({"prompt": "x" * 2501}, "prompt: is 2,501 characters; the limit is 2,500"),
        ({"resolution": "480p"}, "resolution: must be one of 720p, 1080p, 4k; got '480p'"),
        ({"duration": 7}, "duration: must be 5 or 10 seconds"),
        ({"duration": 5.0}, "duration: must be 5 or 10 seconds"),
        ({"duration": True}, "duration: must be 5 or 10 seconds"),
        ({"generate_audio": "yes"}, "generate_audio: must be True or False"),
        ({"negative_prompt": "n" * 2501}, "negative_prompt: is 2,501 characters"),
        ({"voice_ids": ["a"]}, "voice_ids: need generate_audio=True"),
        ({"voice_ids": ["a", "b", "c"], "generate_audio": True}, "voice_ids: at most 2 voices"),
        ({"voice_ids": [""], "generate_audio": True}, "voice_ids: each voice id is a non-empty"),
        ({"multi_prompt": []}, "multi_prompt: takes 1 to 6 segments; got 0"),
        (
            {"multi_prompt": [{"prompt": "a", "duration": 1}] * 7, "duration": 10},
            "multi_prompt: takes 1 to 6 segments; got 7",
        ),
        (
            {"multi_prompt": [{"prompt": "a", "duration": 2}, {"prompt": "b", "duration": 2}]},
            "multi_prompt: segment durations add up to 4 s but duration is 5 s",
        ),
        (
            {"multi_prompt": [{"prompt": "p" * 513, "duration": 5}]},
            "multi_prompt[1]: prompt is 513 characters; the limit is 512",
        ),
        (
            {"multi_prompt": [{"prompt": "a", "duration": 0}, {"prompt": "b", "duration": 5}]},
            "multi_prompt[1]: lasts at least 1 s; got 0",
        ),
        (
            {"multi_prompt": [{"prompt": "a", "duration": 2.5}, {"prompt": "b", "duration": 2.5}]},
            "multi_prompt[1]: duration must be whole seconds",
        ),
        ({"multi_prompt": [{"prompt": "", "duration": 5}]}, "multi_prompt[1]: needs a prompt"),
    ],
)
def test_each_rule_names_the_field_the_limit_and_the_value(
    fields: dict[str, Any], expected: str
) -> None:
    found = problems(**fields)
    assert any(p.startswith(expected) for p in found), found


def test_boundaries_are_allowed() -> None:
    assert problems(prompt="x" * 2500) == []
    assert problems(prompt="😀" * 2500) == []  # code points, not bytes or UTF-16 units
    assert problems(voice_ids=["a", "b"], generate_audio=True) == []
    assert problems(multi_prompt=[{"prompt": "p" * 512, "duration": 1}] * 5) == []
    assert problems(duration=10, resolution="4k") == []


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(InputError) as info:
        VideoRequest.build(prompt="", image=URL, duration=3, resolution="8k").check()
    assert {p.field for p in info.value.problems} == {"prompt", "duration", "resolution"}
    assert "3 problems" in str(info.value)


def test_unknown_fields_are_refused_with_a_suggestion() -> None:
    with pytest.raises(InputError, match="'durration' \\(did you mean 'duration'\\?\\)"):
        VideoRequest.build(prompt="a", image=URL, durration=5)


def test_payload_leaves_unset_optionals_out() -> None:
    body = VideoRequest.build(prompt="a", image=URL).payload(URL, None)
    assert body == {"model": "kling-v3-image-to-video", "prompt": "a", "image_url": URL}


def test_payload_carries_every_field_by_its_wire_name() -> None:
    req = VideoRequest.build(
        prompt="p <<<voice_1>>>",
        image=URL,
        image_tail=URL,
        resolution="1080p",
        duration=10,
        generate_audio=True,
        negative_prompt="blur",
        voice_ids=["v1"],
        multi_prompt=[("one", 4), {"prompt": "two", "duration": 6}],
    )
    body = req.payload("https://x/a.png", "https://x/b.png")
    assert body == {
        "model": "kling-v3-image-to-video",
        "prompt": "p <<<voice_1>>>",
        "image_url": "https://x/a.png",
        "image_tail_url": "https://x/b.png",
        "resolution": "1080p",
        "duration": 10,
        "generate_audio": True,
        "negative_prompt": "blur",
        "voice_ids": ["v1"],
        "multi_prompt": [
            {"index": 1, "prompt": "one", "duration": 4},
            {"index": 2, "prompt": "two", "duration": 6},
        ],
    }


def test_request_hash_is_stable_and_order_free() -> None:
    assert request_hash({"a": 1, "b": [1, 2]}) == request_hash({"b": [1, 2], "a": 1})
    assert request_hash({"a": 1}) != request_hash({"a": 2})


@pytest.mark.parametrize(
    ("size", "fmt", "expected"),
    [
        ((299, 400), "PNG", "is 299x400 px; each side must be at least 300 px"),
        ((1000, 399), "PNG", "has aspect ratio 2.51:1"),
        ((399, 1000), "JPEG", "has aspect ratio 0.40:1"),
        ((400, 400), "GIF", "must be a JPG or PNG picture; this one is GIF"),
        ((400, 400), "WEBP", "must be a JPG or PNG picture; this one is WEBP"),
    ],
)
def test_picture_rules(size: tuple[int, int], fmt: str, expected: str) -> None:
    data = make_picture(*size, fmt=fmt)
    with pytest.raises(InputError) as info:
        load_local_picture(data, "image")
    assert expected in str(info.value)


def test_picture_boundaries_pass() -> None:
    for w, h in ((300, 300), (750, 300), (300, 750)):
        pic = load_local_picture(make_picture(w, h), "image")
        assert (pic.width, pic.height) == (w, h)


def test_oversized_and_broken_files(tmp_path: Any) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG" + b"0" * (10 * 1024 * 1024 + 1))
    with pytest.raises(InputError, match="the limit is 10 MB"):
        load_local_picture(big, "image")
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(InputError, match="not a picture"):
        load_local_picture(text, "image")
    for cut in (200, 2000):  # the header alone, and a JPEG cut off mid-stream
        truncated = make_picture(600, 400, fmt="JPEG")[:cut]
        with pytest.raises(InputError, match="image_tail"):
            load_local_picture(truncated, "image_tail")
    with pytest.raises(InputError, match="no file at"):
        load_local_picture(tmp_path / "missing.png", "image")
    with pytest.raises(InputError, match="data: URLs are not accepted"):
        load_local_picture("data:image/png;base64,AAAA", "image")


def test_pil_images_are_encoded() -> None:
    from PIL import Image

    pic = load_local_picture(Image.new("RGB", (640, 480), (1, 2, 3)), "image")
    assert (pic.format, pic.width, pic.height) == ("PNG", 640, 480)


BASE = {"id": "task-1", "status": "completed", "progress": 100, "created": 1757165031}


@pytest.mark.parametrize(
    "extra",
    [
        {"results": [{"url": "https://cdn/v.mp4", "width": 1280, "height": 720}]},
        {"results": ["https://cdn/v.mp4"]},
        {"results": [{"video_url": "https://cdn/v.mp4"}]},
        {"output": {"url": "https://cdn/v.mp4", "urls": ["https://cdn/v.mp4"], "duration": 5}},
        {"output": {"urls": ["https://cdn/v.mp4"]}},
    ],
)
def test_every_result_shape_gives_the_video_url(extra: dict[str, Any]) -> None:
    task = Task.from_api(BASE | extra)
    assert task.video_url == "https://cdn/v.mp4"
    assert task.video_urls == ("https://cdn/v.mp4",)
    assert task.succeeded and task.done
    assert task.created is not None and task.created.year == 2025


def test_failed_task_and_cancelled_status() -> None:
    task = Task.from_api(
        {
            "id": "t",
            "status": "failed",
            "error": {"code": "content_policy", "message": "no", "type": "task_error"},
            "usage": {"credits_reserved": 12, "user_group": "default"},
        }
    )
    assert task.failed and task.error is not None and task.error.code == "content_policy"
    assert task.credits_reserved == 12
    with pytest.raises(Exception, match="content_policy: no"):
        task.raise_for_error()
    assert Task.from_api({"id": "t", "status": "cancelled"}).failed


def test_create_envelope_fields() -> None:
    task = Task.from_api(
        {
            "created": 1757165031,
            "id": "task-unified-1757165031-uyujaw3d",
            "model": "kling-v3-image-to-video",
            "object": "video.generation.task",
            "progress": 0,
            "status": "pending",
            "task_info": {"can_cancel": True, "estimated_time": 45},
            "type": "video",
        }
    )
    assert task.estimated_time == 45.0 and task.status == "pending" and not task.done
    assert task.raw["object"] == "video.generation.task"


def test_voice_id_from_results() -> None:
    task = Task.from_api({"id": "v", "status": "completed", "results": [{"voice_id": "voice_1"}]})
    assert task.voice_id == "voice_1"
