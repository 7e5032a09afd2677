"""Uploads (base64 and multipart), the public "CDN" links, Range requests and expiry."""

from __future__ import annotations

import base64
import time

import httpx
import pytest

from kling_studio.simulator import Simulator

from .conftest import MakeSim, client, create, picture, upload, wait_done

PNG = picture((12, 34, 56))
UPLOAD_KEYS = {"id", "filename", "url", "size", "created"}


def test_base64_upload_is_served_without_a_key(sim: Simulator, api: httpx.Client) -> None:
    body = {
        "file_data": base64.b64encode(PNG).decode(),
        "file_name": "start.png",
        "auto_cleanup": True,
    }
    response = api.post("/v1/files/upload/base64", json=body)
    assert response.status_code == 200
    info = response.json()
    assert set(info) == UPLOAD_KEYS
    assert info["filename"] == "start.png"
    assert info["size"] == len(PNG)
    assert abs(info["created"] - time.time()) < 5
    assert info["url"].startswith(f"{sim.base_url}/files/")
    served = httpx.get(info["url"], trust_env=False)  # no Authorization header
    assert served.status_code == 200
    assert served.content == PNG
    assert served.headers["content-type"] == "image/png"


def test_stream_upload_is_served(api: httpx.Client) -> None:
    jpeg = picture((1, 2, 3), fmt="JPEG")
    response = api.post("/v1/files/upload/stream", files={"file": ("end.jpg", jpeg, "image/jpeg")})
    assert response.status_code == 200
    info = response.json()
    assert set(info) == UPLOAD_KEYS
    assert (info["filename"], info["size"]) == ("end.jpg", len(jpeg))
    served = httpx.get(info["url"], trust_env=False)
    assert served.content == jpeg
    assert served.headers["content-type"] == "image/jpeg"


def test_a_data_url_in_file_data_is_tolerated(api: httpx.Client) -> None:
    data = "data:image/png;base64," + base64.b64encode(PNG).decode()
    response = api.post("/v1/files/upload/base64", json={"file_data": data, "file_name": "a.png"})
    assert response.status_code == 200
    assert httpx.get(response.json()["url"], trust_env=False).content == PNG


def test_unsafe_file_names_give_safe_urls(api: httpx.Client) -> None:
    url = upload(api, PNG, "../../etc/pass wd?.png")
    last = url.rsplit("/", 1)[-1]
    assert "/" not in last and ".." not in url.split("/files/")[1]
    assert httpx.get(url, trust_env=False).content == PNG


def test_not_base64_is_400(api: httpx.Client) -> None:
    response = api.post(
        "/v1/files/upload/base64", json={"file_data": "this is not base64!!", "file_name": "a.png"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("body", "param"),
    [({"file_name": "a.png"}, "file_data"), ({"file_data": "AAAA", "file_name": 3}, "file_name")],
)
def test_base64_fields_are_checked(api: httpx.Client, body: dict[str, object], param: str) -> None:
    response = api.post("/v1/files/upload/base64", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["param"] == param


def test_stream_needs_a_file_field(api: httpx.Client) -> None:
    response = api.post("/v1/files/upload/stream", files={"other": ("a.png", PNG)})
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "file"
    assert api.post("/v1/files/upload/stream", json={"file": "x"}).status_code == 400


BIG = b"\0" * (10 * 1024 * 1024 + 1)


def test_more_than_10_mb_is_413(sim: Simulator, api: httpx.Client) -> None:
    as_base64 = {"file_data": base64.b64encode(BIG).decode(), "file_name": "big.png"}
    assert api.post("/v1/files/upload/base64", json=as_base64).status_code == 413
    assert api.post("/v1/files/upload/stream", files={"file": ("big.png", BIG)}).status_code == 413
    exactly = b"\0" * (10 * 1024 * 1024)
    assert (
        api.post("/v1/files/upload/stream", files={"file": ("ok.png", exactly)}).status_code == 200
    )
    assert sim.stats()["uploads"] == 1


def test_unknown_file_is_404(sim: Simulator, api: httpx.Client) -> None:
    url = upload(api, PNG, "a.png")
    assert httpx.get(url.replace("a.png", "b.png"), trust_env=False).status_code == 404
    assert httpx.get(f"{sim.base_url}/files/file-nope/a.png", trust_env=False).status_code == 404
    assert httpx.get(f"{sim.base_url}/videos/task-nope.mp4", trust_env=False).status_code == 404


def test_video_supports_range_requests(api: httpx.Client, red_url: str) -> None:
    task = wait_done(api, create(api, prompt="x", image_url=red_url)["id"])
    url = task["results"][0]["url"]
    whole = httpx.get(url, trust_env=False)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    part = httpx.get(url, headers={"Range": "bytes=100-199"}, trust_env=False)
    assert part.status_code == 206
    assert part.content == whole.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    tail = httpx.get(url, headers={"Range": "bytes=-50"}, trust_env=False)
    assert tail.status_code == 206 and tail.content == whole.content[-50:]


def test_a_video_is_not_served_before_it_is_done(
    sim: Simulator, api: httpx.Client, red_url: str
) -> None:
    task = create(api, prompt="x", image_url=red_url)
    assert httpx.get(f"{sim.base_url}/videos/{task['id']}.mp4", trust_env=False).status_code == 404


def test_expire_urls_makes_links_die(sim: Simulator, api: httpx.Client, red_url: str) -> None:
    first = wait_done(api, create(api, prompt="one", image_url=red_url)["id"])
    second = wait_done(api, create(api, prompt="two", image_url=red_url)["id"])
    assert sim.expire_urls(first["id"]) == 1
    dead = httpx.get(first["results"][0]["url"], trust_env=False)
    assert dead.status_code == 403
    assert "expired" in dead.text
    assert httpx.get(second["results"][0]["url"], trust_env=False).status_code == 200
    # The task itself still answers, with the same (now dead) link.
    assert api.get(f"/v1/tasks/{first['id']}").json()["results"] == first["results"]
    # Through the admin route, for another process: all of them.
    assert httpx.post(f"{sim.base_url}/_sim/expire", json={}, trust_env=False).json() == {
        "expired": 2
    }
    assert httpx.get(second["results"][0]["url"], trust_env=False).status_code == 403
    missing = httpx.post(f"{sim.base_url}/_sim/expire", json={"task_id": "nope"}, trust_env=False)
    assert missing.status_code == 404


def test_links_expire_after_url_ttl(make_sim: MakeSim) -> None:
    sim = make_sim(url_ttl=0.5)
    with client(sim) as api:
        url = upload(api, PNG)
        task = wait_done(api, create(api, prompt="x", image_url=url)["id"])
        video = task["results"][0]["url"]
        assert httpx.get(video, trust_env=False).status_code == 200
        time.sleep(0.6)
        assert httpx.get(video, trust_env=False).status_code == 403
        assert httpx.get(url, trust_env=False).status_code == 403


def test_default_url_ttl_is_a_scaled_day(make_sim: MakeSim) -> None:
    sim = make_sim(time_scale=0.001)  # a "day" is 86.4 s
    with client(sim) as api:
        url = upload(api, PNG)
        task = wait_done(api, create(api, prompt="x", image_url=url)["id"])
    assert httpx.get(task["results"][0]["url"], trust_env=False).status_code == 200
    assert sim.url_ttl == pytest.approx(86.4)
