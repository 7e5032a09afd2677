"""Fault switches, as a client sees them over real HTTP."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from kling_studio.simulator import FaultConfig, Simulator

from .conftest import MakeSim, client, create, picture, upload, wait_done

BODY = {"prompt": "x", "image_url": "http://example.com/a.jpg"}


# -- the spec ---------------------------------------------------------------------------------


def test_spec_parses_kinds_rates_routes_and_options() -> None:
    config = FaultConfig.parse("5xx=0.2, 429=0.1@get, drop=0.3@create+upload, retry_after=0.5")
    kinds = [(r.kind, r.rate, r.routes) for r in config.rules]
    assert kinds == [
        ("5xx", 0.2, ("create", "get", "upload")),
        ("429", 0.1, ("get",)),
        ("drop", 0.3, ("create", "upload")),
    ]
    assert config.retry_after == 0.5
    assert config.slow_seconds == 2.0
    assert FaultConfig.parse(config.to_spec()) == config


def test_kinds_that_only_make_sense_on_create_default_there() -> None:
    config = FaultConfig.parse("lost=1,fail=1,402=1")
    assert all(r.routes == ("create",) for r in config.rules)


@pytest.mark.parametrize(
    "spec",
    [
        "boom=0.1",
        "5xx",
        "5xx=2",
        "5xx=-0.1",
        "5xx=abc",
        "lost=1@get",
        "malformed=1@files",
        "drop=1@nowhere",
    ],
)
def test_bad_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        FaultConfig.parse(spec)


def test_coerce_accepts_strings_dicts_and_configs() -> None:
    parsed = FaultConfig.parse("drop=0.3@create,slow_seconds=1")
    assert FaultConfig.coerce({"drop@create": 0.3, "slow_seconds": 1}) == parsed
    assert FaultConfig.coerce("drop=0.3@create,slow_seconds=1") == parsed
    assert FaultConfig.coerce(parsed) is parsed
    assert FaultConfig.coerce(None) == FaultConfig()
    assert FaultConfig.coerce("") == FaultConfig()


# -- each kind over HTTP --------------------------------------------------------------------


def test_5xx_answers_500_or_503_envelopes(make_sim: MakeSim) -> None:
    sim = make_sim(faults="5xx=1@get")
    with client(sim) as api:
        task = create(api, **BODY)  # create is not affected
        answers = [api.get(f"/v1/tasks/{task['id']}") for _ in range(12)]
    assert {r.status_code for r in answers} == {500, 503}
    types = {r.json()["error"]["type"] for r in answers}
    assert types == {"server_error", "service_unavailable_error"}
    assert sim.stats()["faults"] == {"5xx": 12}


def test_5xx_on_create_makes_no_task(make_sim: MakeSim) -> None:
    sim = make_sim(faults="5xx=1@create")
    with client(sim) as api:
        assert api.post("/v1/videos/generations", json=BODY).status_code in (500, 503)
    assert sim.created_tasks() == []


def test_429_carries_retry_after(make_sim: MakeSim) -> None:
    sim = make_sim(faults="429=1@create,retry_after=0.25")
    with client(sim) as api:
        response = api.post("/v1/videos/generations", json=BODY)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "0.25"
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert sim.created_tasks() == []


def test_429_default_retry_after_follows_the_time_scale(make_sim: MakeSim) -> None:
    for scale, expected in ((0.5, "0.5"), (0.01, "0.05"), (2.0, "2")):
        sim = make_sim(time_scale=scale, faults="429=1@get")
        with client(sim) as api:
            assert api.get("/v1/tasks/x").headers["Retry-After"] == expected


def test_drop_on_create_closes_the_connection_and_makes_no_task(make_sim: MakeSim) -> None:
    sim = make_sim(faults="drop=1@create")
    with client(sim) as api:
        with pytest.raises(httpx.RemoteProtocolError):
            api.post("/v1/videos/generations", json=BODY)
        # The same connection pool keeps working afterwards.
        assert api.get("/v1/tasks/nope").status_code == 404
    assert sim.created_tasks() == []
    assert sim.stats()["faults"] == {"drop": 1}
    assert sim.stats()["creates_accepted"] == 0


def test_lost_create_makes_the_task_but_loses_the_answer(make_sim: MakeSim) -> None:
    sim = make_sim(faults="lost=1")
    with client(sim) as api, pytest.raises(httpx.RemoteProtocolError):
        api.post("/v1/videos/generations", json=BODY)
    [record] = sim.created_tasks()
    assert record["body"] == BODY
    assert sim.stats()["faults"] == {"lost": 1}
    with client(sim) as api:  # the task exists and runs like any other
        assert api.get(f"/v1/tasks/{record['id']}").status_code == 200


def test_slow_answers_late_but_does_the_work(make_sim: MakeSim) -> None:
    sim = make_sim(faults="slow=1@create,slow_seconds=0.3")
    with client(sim) as api:
        started = time.monotonic()
        create(api, **BODY)
        assert time.monotonic() - started >= 0.3
        with pytest.raises(httpx.ReadTimeout):
            api.post("/v1/videos/generations", json=BODY, timeout=0.1)
        assert api.get("/v1/tasks/nope").status_code == 404  # get is not slowed
    time.sleep(0.3)
    assert len(sim.created_tasks()) == 2  # the client gave up, the task was made anyway


def test_malformed_is_200_with_broken_json(make_sim: MakeSim) -> None:
    sim = make_sim(faults="malformed=1@get")
    with client(sim) as api:
        task = create(api, **BODY)
        response = api.get(f"/v1/tasks/{task['id']}")
        assert response.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            response.json()
        assert response.text.startswith("{")
        # Errors are not garbled: only a would-be 200 is.
        assert "error" in api.get("/v1/tasks/nope").json()


def test_402_fault(make_sim: MakeSim) -> None:
    sim = make_sim(faults="402=1")
    with client(sim) as api:
        response = api.post("/v1/videos/generations", json=BODY)
    assert response.status_code == 402
    assert response.json()["error"]["type"] == "insufficient_quota"
    assert sim.created_tasks() == []


def test_faults_on_downloads(make_sim: MakeSim) -> None:
    sim = make_sim()
    with client(sim) as api:
        url = upload(api, picture((5, 5, 5)))
        sim.set_faults("drop=1@files")
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(url, trust_env=False)
        sim.set_faults({"429@files": 1})
        assert httpx.get(url, trust_env=False).status_code == 429
        assert api.get("/v1/tasks/nope").status_code == 404  # API routes untouched
        sim.set_faults(None)
        assert httpx.get(url, trust_env=False).status_code == 200


def test_default_routes_leave_downloads_and_admin_alone(make_sim: MakeSim) -> None:
    sim = make_sim()
    with client(sim) as api:
        url = upload(api, picture((5, 5, 5)))
        sim.set_faults("5xx=1,drop=0")
        assert api.get("/v1/tasks/nope").status_code in (500, 503)
        assert httpx.get(url, trust_env=False).status_code == 200
        assert httpx.get(f"{sim.base_url}/_sim/stats", trust_env=False).status_code == 200


def test_faults_can_be_set_over_http(make_sim: MakeSim) -> None:
    sim = make_sim()
    admin = f"{sim.base_url}/_sim/faults"
    answer = httpx.post(admin, content="429=1@get", trust_env=False)
    assert answer.status_code == 200
    assert sim.faults == FaultConfig.parse("429=1@get")
    httpx.post(admin, json={"5xx@create": 1}, trust_env=False)
    assert sim.faults == FaultConfig.parse("5xx=1@create")
    httpx.post(admin, json="drop=0.5", trust_env=False)
    assert sim.faults == FaultConfig.parse("drop=0.5")
    refused = httpx.post(admin, content="nonsense=1", trust_env=False)
    assert refused.status_code == 400
    assert sim.faults == FaultConfig.parse("drop=0.5")


def codes(seed: int) -> list[int | str]:
    with Simulator(time_scale=0.01, seed=seed, faults="5xx=0.3,429=0.2,drop=0.2@get") as sim:
        seen: list[int | str] = []
        with client(sim) as api:
            for _ in range(20):
                try:
                    seen.append(api.get("/v1/tasks/nope").status_code)
                except httpx.RemoteProtocolError:
                    seen.append("drop")
        return seen


def test_faults_are_reproducible_for_a_seed() -> None:
    first = codes(7)
    assert first == codes(7)
    assert len(set(first)) >= 3
    assert first != codes(8)


def test_retries_get_through_eventually(make_sim: MakeSim) -> None:
    """Rates below 1 let a retrying client finish a whole task."""
    sim = make_sim(faults="5xx=0.3@get,429=0.2@get,retry_after=0.05", seed=11)
    with client(sim) as api:
        url = upload(api, picture((100, 100, 100)))
        task = create(api, prompt="x", image_url=url)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            response = api.get(f"/v1/tasks/{task['id']}")
            if response.status_code == 200 and response.json()["status"] == "completed":
                break
            time.sleep(0.02)
        else:
            raise AssertionError("never completed")
    faults = sim.stats()["faults"]
    assert faults.get("5xx", 0) > 0 and faults.get("429", 0) > 0


def test_401_quotes_the_token_it_was_sent(make_sim: MakeSim) -> None:
    sim = make_sim(faults="401=1@get")
    with client(sim) as api:
        task = create(api, **BODY)  # create is not affected
        answer = api.get(f"/v1/tasks/{task['id']}")
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == f"Invalid token: {sim.api_key}"
    assert answer.json()["error"]["type"] == "authentication_error"


def test_404_flickers_for_a_task_that_exists(make_sim: MakeSim) -> None:
    sim = make_sim(faults="404=0.5@get", seed=3)
    with client(sim) as api:
        task = create(api, **BODY)
        codes = [api.get(f"/v1/tasks/{task['id']}").status_code for _ in range(20)]
    assert set(codes) == {200, 404}
    assert sim.stats()["faults"] == {"404": codes.count(404)}


def test_gzip_encodes_a_download_that_accepts_it(make_sim: MakeSim) -> None:
    sim = make_sim(faults="gzip=1@files")
    with client(sim) as api:
        url = upload(api, picture((10, 200, 10)))
        plain = httpx.get(url, headers={"Accept-Encoding": "identity"}, trust_env=False)
        encoded = httpx.get(url, headers={"Accept-Encoding": "gzip"}, trust_env=False)
    assert "content-encoding" not in plain.headers
    assert encoded.headers["content-encoding"] == "gzip"
    assert int(encoded.headers["content-length"]) < len(encoded.content)  # decoded by httpx
    assert encoded.content == plain.content


def test_stall_pauses_half_way_through_the_body(make_sim: MakeSim) -> None:
    sim = make_sim(faults="stall=1@files,stall_seconds=0.4")
    with client(sim) as api:
        url = upload(api, picture((10, 200, 10)))
    with httpx.stream("GET", url, trust_env=False) as answer:
        total = int(answer.headers["content-length"])
        started = time.monotonic()
        arrivals = [(time.monotonic() - started, len(c)) for c in answer.iter_raw()]
    assert sum(n for _, n in arrivals) == total
    late = [n for t, n in arrivals if t >= 0.35]
    assert 0 < sum(late) < total  # the first half came at once, the rest after the pause


def test_upload_links_expire_after_upload_ttl_and_the_task_fails_to_fetch(
    make_sim: MakeSim,
) -> None:
    sim = make_sim(upload_ttl=0.2)
    assert sim.upload_ttl == 0.2 and sim.url_ttl > 0.2
    with client(sim) as api:
        url = upload(api, picture((10, 200, 10)))
        time.sleep(0.3)
        assert httpx.get(url, trust_env=False).status_code == 403
        task = create(api, prompt="p", image_url=url)
        done = wait_done(api, task["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "image_fetch_failed"
    assert "expired" in done["error"]["message"]


def test_upload_ttl_is_a_switch_over_http_too(make_sim: MakeSim) -> None:
    sim = make_sim()
    answer = httpx.post(f"{sim.base_url}/_sim/config", json={"upload_ttl": 0.5}, trust_env=False)
    assert answer.status_code == 200 and sim.upload_ttl == 0.5
    bad = httpx.post(f"{sim.base_url}/_sim/config", json={"upload_ttl": -1}, trust_env=False)
    assert bad.status_code == 400 and sim.upload_ttl == 0.5
