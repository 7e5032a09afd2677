"""Secrets: the quickstart notebook run with a real-looking key, then saved. The key's text is in
none of the .ipynb (widget state included), the history, the video cache, the logs, the reprs,
the exception texts or the curl/Python snippets, while the key is provably the one that was used.
"""

from __future__ import annotations

import json
import logging
import os
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kling_studio import AsyncClient, Client, Studio
from kling_studio.errors import KlingStudioError
from kling_studio.history._store import History
from kling_studio.simulator import Simulator
from kling_studio.studio._backend import choose_backend

from ..conftest import make_picture

KEY = "sk-test-SECRET-4242"
ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "notebooks" / "01_quickstart.ipynb"

SETUP_CELL = """\
# secrets test: every log record of the kernel, at DEBUG, into a file
import logging
_handler = logging.FileHandler({log!r}, encoding="utf-8")
_handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
logging.getLogger().addHandler(_handler)
logging.getLogger().setLevel(logging.DEBUG)
logging.getLogger("kling_studio").setLevel(logging.DEBUG)
"""

# Everything a user might print after the quickstart, printed into the saved notebook.
PROBE_CELL = """\
# secrets test: reprs, exceptions and snippets, printed into the notebook
import traceback
from kling_studio import Client
from kling_studio.errors import KlingStudioError

probe = [repr(studio), str(studio), repr(studio.client), repr(studio.history),
         repr(studio.runner), repr(studio._backend), repr(record), str(record.to_row()),
         repr(studio.history_df().to_dict("records")), repr(studio.get_state())]
client = Client()
probe.append(repr(client))
probe.append(repr(client.get(record.task_id)))
try:
    client.get("task-unified-0-missing")
except KlingStudioError as exc:
    probe += [repr(exc), str(exc), traceback.format_exc(), repr(vars(exc))]
if hasattr(studio, "snippets"):
    snip = studio.snippets(record.local_id)
    probe += [str(snip), snip._repr_markdown_(), json.dumps(snip.as_dict())]
logging.getLogger("kling_studio").debug("probe: %s", probe)
print("\\n".join(probe))
"""

# An uncaught error: its traceback is saved in the notebook.
RAISE_CELL = 'Client().get("task-unified-0-missing")'


@dataclass
class Run:
    sim: Simulator
    home: Path
    notebook: Path
    kernel_log: Path
    kernel_output: Path


def find_key(places: dict[str, str | bytes]) -> list[str]:
    """The names of the places whose text holds the key."""
    needle = KEY.encode()
    found = []
    for name, value in places.items():
        data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        if needle in data:
            found.append(name)
    return found


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """The quickstart, executed in a real kernel with the key set, and saved."""
    import nbformat
    from nbclient import NotebookClient

    base = tmp_path_factory.mktemp("secrets")
    folder = base / "nb"
    folder.mkdir()
    home = base / "home"  # a fresh KLING_STUDIO_HOME
    kernel_log = base / "kernel-logging.log"
    kernel_output = base / "kernel-stdout-stderr.log"
    notebook = folder / "quickstart.ipynb"

    nb = nbformat.read(QUICKSTART, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(SETUP_CELL.format(log=str(kernel_log))))
    nb.cells.append(nbformat.v4.new_code_cell("import json, logging\n" + PROBE_CELL))
    nb.cells.append(nbformat.v4.new_code_cell(RAISE_CELL, metadata={"tags": ["raises-exception"]}))
    with Simulator(time_scale=0.02, seed=42, api_keys={KEY}) as sim:
        env = dict(
            os.environ,
            FOXAPI_API_KEY=KEY,
            FOXAPI_BASE_URL=sim.base_url,
            KLING_STUDIO_HOME=str(home),
        )
        client = NotebookClient(
            nb,
            timeout=120,
            kernel_name="python3",
            store_widget_state=True,
            resources={"metadata": {"path": str(folder)}},
        )
        with open(kernel_output, "wb") as out:
            client.execute(env=env, stdout=out, stderr=out)
        nbformat.write(nb, notebook)
        yield Run(sim, home, notebook, kernel_log, kernel_output)


def test_the_key_was_really_used(run: Run) -> None:
    # The simulator accepts only KEY: tasks made through it prove the key went out.
    stats = run.sim.stats()
    prompts = [t["body"]["prompt"] for t in run.sim.created_tasks()]
    assert any(p.startswith("A calm lake") for p in prompts), prompts
    assert stats["requests"].get("create", 0) >= 1 and stats["requests"].get("get", 0) >= 1
    # The quickstart's studio ran on FoxAPI (our simulator), not on its built-in simulator.
    records = History(run.home).records()
    assert records and records[0].status == "completed" and records[0].has_video
    # And the scanner is not blind: it finds the key where it is.
    assert find_key({"control": f"Authorization: Bearer {KEY}"}) == ["control"]


def test_saved_notebook_and_widget_state(run: Run) -> None:
    raw = run.notebook.read_bytes()
    nb = json.loads(raw)
    state = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    studio_states = [s for s in state.values() if "backend" in s.get("state", {})]
    assert studio_states and studio_states[0]["state"]["backend"]["mode"] == "foxapi"
    outputs = json.dumps([c.get("outputs", []) for c in nb["cells"]])
    assert "Client(base_url=" in outputs  # the probe's reprs were printed
    assert "NotFoundError" in outputs  # the uncaught traceback was saved
    assert find_key({"ipynb": raw, "widget state": json.dumps(state), "outputs": outputs}) == []


def test_history_cache_and_logs(run: Run) -> None:
    files = files_under(run.home)
    assert any(name.endswith("history.sqlite3") for name in files)
    assert any(name.startswith("videos") and name.endswith(".mp4") for name in files)
    logs = {"kernel logging": run.kernel_log.read_bytes()}
    logs["kernel stdout/stderr"] = run.kernel_output.read_bytes()
    assert b"kling_studio" in logs["kernel logging"]  # DEBUG records were captured
    assert find_key(files) == []
    assert find_key(logs) == []


def test_reprs_and_exceptions_in_this_process(
    run: Run, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("FOXAPI_API_KEY", KEY)
    monkeypatch.setenv("FOXAPI_BASE_URL", run.sim.base_url)
    texts: dict[str, str] = {}

    history = History(run.home)
    record = history.records()[0]
    texts["history"] = repr(history)
    texts["record"] = repr(record) + str(record.to_row())
    texts["df"] = history.df().to_csv()

    with Client() as client:
        texts["Client"] = repr(client) + str(client)
        task = client.get(record.task_id or "")
        texts["Task"] = repr(task) + str(task) + repr(task.model_dump())
    texts["AsyncClient"] = repr(AsyncClient()) + str(AsyncClient(KEY))
    texts["Backend"] = repr(choose_backend()) + str(choose_backend().public())
    studio = Studio(history=run.home, resume=False)
    texts["Studio"] = repr(studio) + str(studio) + json.dumps(studio.get_state(), default=str)
    studio.close()

    def failure(name: str, exc: BaseException) -> None:
        texts[name] = "".join(
            [repr(exc), str(exc), repr(vars(exc)), *traceback.format_exception(exc)]
        )

    # A wrong key: KEY sent to a server that does not know it.
    with Simulator(time_scale=0.02) as other, Client(KEY, other.base_url) as wrong:
        with pytest.raises(KlingStudioError) as info:
            wrong.get("task-anything")
        failure("401", info.value)
        with pytest.raises(KlingStudioError) as info:
            wrong.submit(prompt="p", image=make_picture())
        failure("401 upload", info.value)
    # Failed calls with the right key: 404, refused connection, lost create, server error.
    with Client(poll_policy=None) as client:
        with pytest.raises(KlingStudioError) as info:
            client.get("task-unified-0-missing")
        failure("404", info.value)
        for name, spec in (("lost create", "lost=1.0@create"), ("500", "5xx=1.0@get")):
            run.sim.set_faults(spec)
            try:
                with pytest.raises(KlingStudioError) as info:
                    if name == "lost create":
                        client.submit(prompt="p", image=make_picture())
                    else:
                        client.get(record.task_id or "")
                failure(name, info.value)
            finally:
                run.sim.set_faults(None)
    with Client(KEY, "http://127.0.0.1:9", max_retries=0) as refused:
        with pytest.raises(KlingStudioError) as info:
            refused.get("task-x")
        failure("connection refused", info.value)

    texts["logs"] = caplog.text
    assert "401" in texts["401"] and "task-unified-0-missing" in texts["404"]
    assert "may exist" in texts["lost create"]
    assert find_key(texts) == []


def test_snippets(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    from kling_studio.studio import snippets as make

    record = History(run.home).records()[0]
    texts: dict[str, str] = {}
    for env_key in (None, KEY):  # with the key in the environment, and without
        if env_key is None:
            monkeypatch.delenv("FOXAPI_API_KEY", raising=False)
        else:
            monkeypatch.setenv("FOXAPI_API_KEY", env_key)
        snip: Any = make(record, base_url=run.sim.base_url)
        label = "env" if env_key else "no env"
        texts[f"str ({label})"] = str(snip)
        texts[f"markdown ({label})"] = snip._repr_markdown_()
        texts[f"dict ({label})"] = json.dumps(snip.as_dict())
    assert "$FOXAPI_API_KEY" in texts["str (env)"]  # the snippet does carry an auth header
    assert 'os.environ["FOXAPI_API_KEY"]' in texts["str (env)"]
    assert find_key(texts) == []


# -- a server that echoes the key ("Invalid token: sk-...") -----------------------------------

ECHO_KEY = "sk-echo-SECRET-9876"


@pytest.fixture
def echoing() -> Iterator[Simulator]:
    """A simulator that knows ECHO_KEY and answers 401 quoting the token it was sent."""
    with Simulator(time_scale=0.02, api_keys={ECHO_KEY}, faults="401=1.0") as sim:
        yield sim


def everything_about(exc: BaseException) -> str:
    return "".join([repr(exc), str(exc), repr(vars(exc)), *traceback.format_exception(exc)])


def test_the_simulator_really_echoes_the_key(echoing: Simulator) -> None:
    import httpx

    answer = httpx.get(
        f"{echoing.base_url}/v1/tasks/x", headers={"Authorization": f"Bearer {ECHO_KEY}"}
    )
    assert answer.status_code == 401 and ECHO_KEY in answer.text


async def test_an_echoed_key_given_as_api_key_is_in_no_message(
    echoing: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from kling_studio.models import VideoRequest
    from kling_studio.runner import Runner

    caplog.set_level(logging.DEBUG)
    texts: dict[str, str] = {}
    async with AsyncClient(ECHO_KEY, echoing.base_url, max_retries=0) as client:
        for name, call in (
            ("get", lambda: client.get("task-x")),
            ("upload", lambda: client.upload(make_picture())),
        ):
            with pytest.raises(KlingStudioError) as info:
                await call()
            texts[name] = everything_about(info.value)
        # The create refused with the echo: what the runner stores in the history.
        echoing.set_faults("401=1.0@create")
        history = History(tmp_path / "home")
        runner = Runner(client, history)
        prepared = await client.prepare(VideoRequest.build(prompt="p", image=make_picture()))
        record = await runner.run(prepared)
        texts["record"] = repr(record) + str(record.to_row())
    texts["history file"] = "".join(
        p.read_bytes().decode("utf-8", "replace")
        for p in (tmp_path / "home").rglob("*")
        if p.is_file()
    )
    texts["logs"] = caplog.text
    assert "Invalid token" in texts["get"] and "<api key>" in texts["get"]
    assert record.status == "rejected" and "Invalid token" in (record.error_message or "")
    assert [name for name, text in texts.items() if ECHO_KEY in text] == []


def test_an_echoed_key_from_the_environment_is_not_printed_by_the_cli(
    echoing: Simulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kling_studio.cli import main

    monkeypatch.setenv("FOXAPI_API_KEY", ECHO_KEY)
    picture = tmp_path / "first.png"
    picture.write_bytes(make_picture())
    code = main(
        [
            "--home",
            str(tmp_path / "home"),
            "generate",
            "--image",
            str(picture),
            "--prompt",
            "p",
            "--base-url",
            echoing.base_url,
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1 and "Invalid token" in err and "401" in err
    assert ECHO_KEY not in out + err
