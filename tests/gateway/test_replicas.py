"""Two `gateway serve` replicas on one PostgreSQL behave as one: students racing at their budget
across replicas never pass it, every task is followed (and its video fetched) by one replica, a
dead replica's tasks are adopted, and a gateway without its database forwards nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kling_studio.gateway import Students
from kling_studio.history._store import History
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from .gateways import GatewayProcess, start_gateway

UPSTREAM_KEY = "sk-upstream-replicas-secret-fedcba9876543210"
LEASE_SECONDS = "3"


@pytest.fixture(scope="module")
def upstream() -> Iterator[Simulator]:
    with Simulator(time_scale=0.1, seed=5, api_keys=[UPSTREAM_KEY]) as sim:
        yield sim


@pytest.fixture(scope="module")
def class_url(postgres: object) -> str:
    from ..postgres_server import PostgresServer

    assert isinstance(postgres, PostgresServer)
    return postgres.new_database()


@pytest.fixture(scope="module")
def replicas(
    upstream: Simulator, class_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[GatewayProcess]]:
    started: list[GatewayProcess] = []
    try:
        for name in ("a", "b"):
            env = {
                "KLING_STUDIO_HOME": str(tmp_path_factory.mktemp(f"replica-{name}")),
                "KLING_STUDIO_LEASE_SECONDS": LEASE_SECONDS,
            }
            started.append(start_gateway(class_url, upstream.base_url, UPSTREAM_KEY, env=env))
        yield started
    finally:
        for gateway in started:
            gateway.stop()


def add_students(url: str, names: list[str], budget: dict[str, Any] | None) -> dict[str, str]:
    with History(url, user="teacher") as h:
        tokens = {name: Students(h).add(name) for name in names}
        for name in names:
            if budget is not None:
                h.set_budget(name, **budget)
    return tokens


def upload_url(gateway: GatewayProcess, token: str) -> str:
    answer = httpx.post(
        f"{gateway.url}/v1/files/upload/stream",
        files={"file": ("frame.png", make_picture(), "image/png")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["url"])


def body(image_url: str, prompt: str) -> dict[str, Any]:
    return {"model": "kling-v3-image-to-video", "prompt": prompt, "image_url": image_url}


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def test_students_racing_at_their_budget_across_replicas_never_pass_it(
    replicas: list[GatewayProcess], upstream: Simulator, class_url: str
) -> None:
    names = [f"racer{i}" for i in range(4)]
    tokens = add_students(class_url, names, {"tasks": 3, "per": "day"})
    image = upload_url(replicas[0], tokens[names[0]])
    before = {t["id"] for t in upstream.created_tasks()}

    async def race() -> list[tuple[str, int]]:
        async with httpx.AsyncClient(timeout=60) as http:

            async def create(name: str, n: int) -> tuple[str, int]:
                gateway = replicas[n % 2]
                answer = await http.post(
                    f"{gateway.url}/v1/videos/generations",
                    json=body(image, f"{name} try {n}"),
                    headers={"Authorization": f"Bearer {tokens[name]}"},
                )
                return name, answer.status_code

            return await asyncio.gather(*(create(name, n) for name in names for n in range(6)))

    results = asyncio.run(race())
    for name in names:
        codes = sorted(code for who, code in results if who == name)
        assert codes == [200, 200, 200, 402, 402, 402], (name, codes)
    new = [t for t in upstream.created_tasks() if t["id"] not in before]
    assert len(new) == 12  # creates upstream == tasks started, none twice

    def all_saved() -> bool:
        with History(class_url) as h:
            records = [r for r in h.records() if r.user in names]
        return len(records) == 12 and all(r.video_stored for r in records)

    wait_until(all_saved, 120, "every racer's video in the class history")
    downloads = {t["id"]: t["video_gets"] for t in upstream.created_tasks()}
    assert all(downloads[t["id"]] == 1 for t in new), downloads  # one follower per task


def test_a_gateway_without_its_database_forwards_nothing(
    replicas: list[GatewayProcess], upstream: Simulator, class_url: str, postgres: object
) -> None:
    import psycopg

    from ..postgres_server import PostgresServer

    assert isinstance(postgres, PostgresServer)
    tokens = add_students(class_url, ["offline"], None)
    token = tokens["offline"]
    image = upload_url(replicas[1], token)
    database = class_url.rsplit("/", 1)[1]
    admin = postgres._dsn("postgres")
    sent = len(upstream.created_tasks())
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (database,),
        )
    try:
        answer = httpx.post(
            f"{replicas[1].url}/v1/videos/generations",
            json=body(image, "while the database is away"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["type"] == "service_unavailable_error"
    assert len(upstream.created_tasks()) == sent
    again = httpx.post(
        f"{replicas[1].url}/v1/videos/generations",
        json=body(image, "once it is back"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert again.status_code == 200, again.text


def test_a_dead_replicas_task_is_adopted_and_its_video_saved(
    replicas: list[GatewayProcess], upstream: Simulator, class_url: str
) -> None:
    """Run last in this module: it kills replica a."""
    token = add_students(class_url, ["orphan"], None)["orphan"]
    image = upload_url(replicas[0], token)
    answer = httpx.post(
        f"{replicas[0].url}/v1/videos/generations",
        json={**body(image, "left behind"), "duration": 10},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    task_id = answer.json()["id"]
    replicas[0].kill()

    def saved() -> bool:
        with History(class_url) as h:
            record = h.by_task_id(task_id)
        return record is not None and record.video_stored

    wait_until(saved, 120, "the surviving replica to adopt the task and save its video")
    with History(class_url) as h:
        record = h.by_task_id(task_id)
    assert record is not None and record.user == "orphan" and record.status == "completed"
    # The student asks the survivor, which knows the task is theirs.
    seen = httpx.get(
        f"{replicas[1].url}/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert seen.status_code == 200 and seen.json()["status"] == "completed"
