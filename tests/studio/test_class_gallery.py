"""A class on one PostgreSQL history: each studio journals its user as the author; by default a
studio lists its user's own tasks, `show="everyone"` is the class gallery with every author,
and the widget's history rows carry the author as text."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kling_studio import Studio
from kling_studio.errors import InputError
from kling_studio.simulator import Simulator

from ..conftest import make_picture
from .test_widget_backend import Recorder, ask


async def test_each_studio_sees_its_own_tasks_and_the_gallery_sees_everyones(
    sim: Simulator, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.set_faults(None)
    ada = Studio(api_key=sim.api_key, base_url=sim.base_url, history=postgres_url, user="ada")
    monkeypatch.setenv("JUPYTERHUB_USER", "bob")  # JupyterHub names the user of a kernel
    bob = Studio(api_key=sim.api_key, base_url=sim.base_url, history=postgres_url)
    gallery = Studio(
        api_key=sim.api_key, base_url=sim.base_url, history=postgres_url, show="everyone"
    )
    try:
        for studio, prompt in ((ada, "ada's lighthouse"), (bob, "bob's <b>cat</b>")):
            studio.set_image(make_picture())
            await studio.agenerate(prompt=prompt, timeout=60)
        assert bob.history.user == "bob"
        assert ada.history_df()["prompt"].tolist() == ["ada's lighthouse"]
        assert bob.history_df()["user"].tolist() == ["bob"]
        assert sorted(ada.history_df(user=None)["user"]) == ["ada", "bob"]
        assert ada.history_df(user="bob")["prompt"].tolist() == ["bob's <b>cat</b>"]
        everyone = gallery.history_df()
        assert sorted(zip(everyone["user"], everyone["prompt"], strict=True)) == [
            ("ada", "ada's lighthouse"),
            ("bob", "bob's <b>cat</b>"),
        ]
        rec = Recorder()
        gallery.send = rec  # type: ignore[method-assign]
        page = await ask(gallery, rec, {"kind": "history", "limit": 10})
        rows = page["data"]["rows"]
        assert sorted(r["user"] for r in rows) == ["ada", "bob"]
        gallery._refresh_history()
        ada._refresh_history()
        assert gallery.history_count == 2 and ada.history_count == 1
    finally:
        for studio in (ada, bob, gallery):
            studio.close()
        await asyncio.sleep(0)


def test_show_must_say_whose_tasks(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="show is"):
        Studio(history=tmp_path / "h.sqlite3", simulator=True, show="")
