"""Every rule of docs/contract.md sections 1, 5 and 6 on the create body -> 422 naming the field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kling_studio.simulator import Simulator

IMAGE = "http://example.com/start.jpg"
BASE: dict[str, Any] = {"model": "kling-v3-image-to-video", "prompt": "a cat", "image_url": IMAGE}
DROP = object()  # marks a field to remove from BASE


def seg(prompt: str = "shot", duration: Any = 5, **extra: Any) -> dict[str, Any]:
    return {"prompt": prompt, "duration": duration, **extra}


INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("prompt-missing", {"prompt": DROP}, "prompt"),
    ("prompt-empty", {"prompt": "  "}, "prompt"),
    ("prompt-not-string", {"prompt": 42}, "prompt"),
    ("prompt-too-long", {"prompt": "x" * 2501}, "prompt"),
    ("prompt-too-long-unicode", {"prompt": "猫" * 2501}, "prompt"),
    ("image-missing", {"image_url": DROP}, "image_url"),
    ("image-null", {"image_url": None}, "image_url"),
    ("image-not-string", {"image_url": ["http://a"]}, "image_url"),
    ("image-not-http", {"image_url": "file:///etc/passwd"}, "image_url"),
    ("tail-not-string", {"image_tail_url": 5}, "image_tail_url"),
    ("tail-not-http", {"image_tail_url": "ftp://example.com/a.png"}, "image_tail_url"),
    ("resolution-unknown", {"resolution": "480p"}, "resolution"),
    ("resolution-case", {"resolution": "4K"}, "resolution"),
    ("duration-7", {"duration": 7}, "duration"),
    ("duration-string", {"duration": "5"}, "duration"),
    ("duration-float", {"duration": 5.0}, "duration"),
    ("duration-bool", {"duration": True}, "duration"),
    ("audio-string", {"generate_audio": "true"}, "generate_audio"),
    ("audio-int", {"generate_audio": 1}, "generate_audio"),
    ("negative-not-string", {"negative_prompt": ["blur"]}, "negative_prompt"),
    ("voices-three", {"generate_audio": True, "voice_ids": ["a", "b", "c"]}, "voice_ids"),
    ("voices-not-list", {"generate_audio": True, "voice_ids": "voice_1"}, "voice_ids"),
    ("voices-not-strings", {"generate_audio": True, "voice_ids": [1]}, "voice_ids"),
    ("voices-without-audio", {"voice_ids": ["voice_1"]}, "voice_ids"),
    ("voices-audio-false", {"generate_audio": False, "voice_ids": ["voice_1"]}, "voice_ids"),
    ("segments-empty", {"multi_prompt": []}, "multi_prompt"),
    ("segments-seven", {"multi_prompt": [seg(duration=1)] * 7, "duration": 10}, "multi_prompt"),
    ("segments-not-list", {"multi_prompt": {"prompt": "x"}}, "multi_prompt"),
    ("segment-not-object", {"multi_prompt": ["x"]}, "multi_prompt[0]"),
    ("segment-prompt-missing", {"multi_prompt": [{"duration": 5}]}, "multi_prompt[0].prompt"),
    ("segment-prompt-long", {"multi_prompt": [seg("y" * 513)]}, "multi_prompt[0].prompt"),
    (
        "segment-duration-zero",
        {"multi_prompt": [seg(duration=5), seg(duration=0)]},
        "multi_prompt[1].duration",
    ),
    ("segment-duration-float", {"multi_prompt": [seg(duration=5.0)]}, "multi_prompt[0].duration"),
    ("segment-duration-missing", {"multi_prompt": [{"prompt": "x"}]}, "multi_prompt[0].duration"),
    ("segment-index-string", {"multi_prompt": [seg(index="1")]}, "multi_prompt[0].index"),
    ("segments-sum-short", {"multi_prompt": [seg(duration=2), seg(duration=2)]}, "multi_prompt"),
    (
        "segments-sum-long",
        {"multi_prompt": [seg(duration=3), seg(duration=3)], "duration": 5},
        "multi_prompt",
    ),
    ("model-unknown", {"model": "kling-v9"}, "model"),
    ("model-not-string", {"model": 3}, "model"),
]


def body_with(changes: dict[str, Any]) -> dict[str, Any]:
    body = {**BASE, **changes}
    return {key: value for key, value in body.items() if value is not DROP}


@pytest.mark.parametrize(
    ("changes", "param"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_body_is_422_naming_the_field(
    shared_api: httpx.Client, changes: dict[str, Any], param: str
) -> None:
    response = shared_api.post("/v1/videos/generations", json=body_with(changes))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert len(error["message"]) > 10


def test_unknown_model_has_a_code(shared_api: httpx.Client) -> None:
    response = shared_api.post("/v1/videos/generations", json=body_with({"model": "kling-v9"}))
    assert response.json()["error"]["code"] == "model_not_found"
    assert "kling-v9" in response.json()["error"]["message"]


def test_segment_sum_message_says_both_numbers(shared_api: httpx.Client) -> None:
    body = body_with({"multi_prompt": [seg(duration=2), seg(duration=2)]})
    message = shared_api.post("/v1/videos/generations", json=body).json()["error"]["message"]
    assert "4" in message and "5" in message


VALID: list[tuple[str, dict[str, Any]]] = [
    ("prompt-2500", {"prompt": "x" * 2500}),
    ("prompt-2500-unicode", {"prompt": "猫" * 2500}),
    (
        "all-fields",
        {
            "resolution": "1080p",
            "duration": 10,
            "generate_audio": True,
            "negative_prompt": "blur, watermark",
            "image_tail_url": "https://example.com/end.png",
            "voice_ids": ["voice_1", "voice_2"],
            "multi_prompt": [seg(duration=4, index=1), seg(duration=6, index=2)],
        },
    ),
    ("4k", {"resolution": "4k"}),
    ("tail-null", {"image_tail_url": None}),
    ("voices-null", {"voice_ids": None}),
    ("voices-empty", {"voice_ids": []}),
    ("segments-null", {"multi_prompt": None}),
    ("segments-no-index", {"multi_prompt": [seg(duration=1)] * 5}),
    (
        "segments-six",
        {"multi_prompt": [seg(duration=1)] * 4 + [seg(duration=3)] * 2, "duration": 10},
    ),
    ("segment-prompt-512", {"multi_prompt": [seg("y" * 512)]}),
    ("unknown-field", {"seed": 7}),
]


@pytest.mark.parametrize("changes", [c[1] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_bodies_are_accepted(shared_api: httpx.Client, changes: dict[str, Any]) -> None:
    response = shared_api.post("/v1/videos/generations", json=body_with(changes))
    assert response.status_code == 200, response.text


def test_voice_model_needs_voice_url(shared_api: httpx.Client) -> None:
    response = shared_api.post("/v1/videos/generations", json={"model": "kling-video-create-voice"})
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "voice_url"


def test_a_rejected_body_creates_no_task(shared_sim: Simulator, shared_api: httpx.Client) -> None:
    before = len(shared_sim.created_tasks())
    shared_api.post("/v1/videos/generations", json=body_with({"duration": 7}))
    assert len(shared_sim.created_tasks()) == before
