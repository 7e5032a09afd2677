"""Starting and stopping the simulator, its admin routes and its Python switches."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import httpx
import pytest

from kling_studio.simulator import DEFAULT_API_KEY, Simulator

from .conftest import MakeSim, client, create, picture, upload, wait_done


def test_starts_fast_and_stops_idempotently() -> None:
    began = time.perf_counter()
    sim = Simulator(time_scale=0.01)
    assert sim.start() is sim
    took = time.perf_counter() - began
    assert took < 1.0, took
    assert sim.start() is sim  # idempotent
    assert httpx.get(f"{sim.base_url}/_sim/health", trust_env=False).json() == {"ok": True}
    folder = sim.data_dir
    sim.stop()
    sim.stop()
    assert not folder.exists()  # the temporary folder goes with it
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{sim.base_url}/_sim/health", trust_env=False)
    with pytest.raises(RuntimeError):
        sim.start()


def test_base_url_needs_a_started_server() -> None:
    sim = Simulator()
    with pytest.raises(RuntimeError):
        _ = sim.base_url
    sim.stop()


def test_binds_loopback_on_a_free_port() -> None:
    with Simulator() as one, Simulator() as two:
        assert one.base_url.startswith("http://127.0.0.1:")
        assert one.base_url != two.base_url
        port = int(one.base_url.rsplit(":", 1)[1])
    with socket.socket() as probe:  # released after stop
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


async def test_starts_inside_a_running_event_loop() -> None:
    # Like a Jupyter kernel: the caller's loop is running; the server has its own thread.
    with Simulator(time_scale=0.01) as sim:
        headers = {"Authorization": f"Bearer {sim.api_key}"}
        async with httpx.AsyncClient(
            base_url=sim.base_url, headers=headers, trust_env=False
        ) as api:
            answer = await api.post(
                "/v1/videos/generations",
                json={"prompt": "x", "image_url": "http://example.com/a.jpg"},
            )
            assert answer.status_code == 200
            await asyncio.sleep(0)
            assert (await api.get(f"/v1/tasks/{answer.json()['id']}")).status_code == 200


def test_custom_api_keys(make_sim: MakeSim) -> None:
    sim = make_sim(api_keys=["sk-one", "sk-two"])
    assert sim.api_key in ("sk-one", "sk-two")
    body = {"prompt": "x", "image_url": "http://example.com/a.jpg"}
    for key, status in (("sk-one", 200), ("sk-two", 200), (DEFAULT_API_KEY, 401)):
        with client(sim, key=key) as api:
            assert api.post("/v1/videos/generations", json=body).status_code == status


def test_data_dir_is_kept(tmp_path: Path) -> None:
    with Simulator(time_scale=0.01, data_dir=tmp_path) as sim, client(sim) as api:
        url = upload(api, picture((1, 1, 1)))
        wait_done(api, create(api, prompt="x", image_url=url)["id"])
    assert list((tmp_path / "renders").glob("*.mp4"))
    assert list((tmp_path / "uploads").glob("*/*.png"))


def test_stats_count_routes_and_tasks(sim: Simulator, api: httpx.Client, red_url: str) -> None:
    wait_done(api, create(api, prompt="x", image_url=red_url)["id"])
    api.get("/v1/tasks/nope")
    stats = sim.stats()
    assert stats["requests"]["create"] == 1
    assert stats["requests"]["upload"] == 1
    assert stats["requests"]["get"] >= 2
    assert stats["creates_accepted"] == 1
    assert stats["tasks"] == {"completed": 1}
    assert stats["faults"] == {}
    assert stats["renders"]["renders"] == 1
    assert httpx.get(f"{sim.base_url}/_sim/stats", trust_env=False).json()["creates_accepted"] == 1


def test_admin_tasks_and_config(sim: Simulator, api: httpx.Client) -> None:
    body = {"prompt": "x", "image_url": "http://example.com/a.jpg"}
    task = create(api, **body)
    listed = httpx.get(f"{sim.base_url}/_sim/tasks", trust_env=False).json()
    assert [(t["id"], t["body"]) for t in listed] == [(task["id"], body)]
    config = f"{sim.base_url}/_sim/config"
    answer = httpx.post(config, json={"result_shape": "strings", "balance": 5}, trust_env=False)
    assert answer.json() == {"result_shape": "strings", "balance": 5}
    assert (sim.result_shape, sim.balance) == ("strings", 5)
    for nonsense in ({"result_shape": "nope"}, {"balance": -1}, {"balance": "lots"}, [1]):
        assert httpx.post(config, json=nonsense, trust_env=False).status_code == 400
    assert (sim.result_shape, sim.balance) == ("strings", 5)
    with pytest.raises(ValueError):
        sim.balance = -3


def test_switches_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        Simulator(result_shape="nope")
    with pytest.raises(ValueError):
        Simulator(time_scale=0)
    with pytest.raises(ValueError):
        Simulator(faults="explode=1")
    with pytest.raises(ValueError):
        Simulator(api_keys=[])


def test_answers_without_nagle_delays(sim: Simulator, api: httpx.Client) -> None:
    """A listener made without IPPROTO_TCP left TCP_NODELAY off: ~44 ms per request."""
    api.get("/v1/tasks/nope")
    began = time.perf_counter()
    for _ in range(20):
        api.get("/v1/tasks/nope")
    assert (time.perf_counter() - began) / 20 < 0.02
