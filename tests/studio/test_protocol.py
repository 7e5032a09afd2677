"""The widget protocol is declared once (studio/_protocol.py): the TypeScript is generated from it
and must be fresh, and what Python really sends (cards, rows, cells, pictures, traits, the
defaults) must match the declaration, key for key and type for type."""

from __future__ import annotations

import importlib.util
import types
import typing
from pathlib import Path
from typing import Any, Literal, NotRequired, Union, get_args, get_origin, is_typeddict

import pytest

from kling_studio import contract as c
from kling_studio import statuses
from kling_studio.history._store import History
from kling_studio.history._view import VIDEO_STATES, VideoState
from kling_studio.models import PreparedRequest, Task, VideoRequest
from kling_studio.pictures import read_picture
from kling_studio.runner import card_from_record
from kling_studio.studio import _protocol as p
from kling_studio.studio._desk import comparison_value
from kling_studio.studio._messages import Messages
from kling_studio.studio._shapes import history_row, picture_info, url_picture_info

from ..conftest import make_picture

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("gen_protocol", ROOT / "scripts/gen_protocol.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_typescript_is_generated_from_the_python_declaration() -> None:
    committed = (ROOT / "js" / "protocol.gen.ts").read_text(encoding="utf-8")
    assert committed == _generator().render(), (
        "js/protocol.gen.ts is stale: run .venv/bin/python scripts/gen_protocol.py"
    )


def test_the_generator_refuses_a_type_it_cannot_write() -> None:
    with pytest.raises(TypeError, match="no TypeScript"):
        _generator()._ts(set[int], {})


def test_the_status_types_are_the_enum_words() -> None:
    assert get_args(statuses.ShownStatus) == tuple(statuses.SHOWN)
    assert get_args(statuses.RecordStatus) == tuple(statuses.RECORD_STATUSES)
    assert get_args(VideoState) == VIDEO_STATES
    assert set(statuses.TICKING) <= set(statuses.SHOWN)


def test_every_request_kind_has_a_handler_and_every_handler_a_kind() -> None:
    handlers = {name.removeprefix("msg_") for name in dir(Messages) if name.startswith("msg_")}
    assert handlers == set(p.REQUESTS)


def test_the_defaults_are_the_contracts() -> None:
    assert_conforms(c.rules_for_front_end(), p.Rules)
    assert p.default_rules() == c.rules_for_front_end()
    assert_conforms(p.default_form(), p.Form)
    assert p.default_form()["resolution"] in c.RESOLUTIONS


def test_the_traits_are_the_declared_ones() -> None:
    import anywidget

    from kling_studio.studio import Studio

    own = set(Studio.class_trait_names(sync=True)) - set(
        anywidget.AnyWidget.class_trait_names(sync=True)
    )
    assert own == set(typing.get_type_hints(p.Traits))


def test_what_python_sends_matches_the_declaration(tmp_path: Path) -> None:
    image = "https://cdn.example.com/first.png"
    request = VideoRequest.build(prompt="a lake", image=image)
    with History(tmp_path / "history.sqlite3") as history:
        done = history.journal_submit(PreparedRequest(request, request.payload(image, None)))
        history.mark_created(done, Task.from_api({"id": "t-1", "status": "pending"}))
        history.update(
            done,
            Task.from_api({"id": "t-1", "status": "completed", "results": [{"url": image}]}),
        )
        history.set_download_error(done, "gone", expired=True)
        lost = history.journal_submit(PreparedRequest(request, request.payload(image, None)))
        history.mark_unknown(lost, "no answer")
        records = [r for r in (history.get(done), history.get(lost)) if r is not None]
        for record in records:
            assert_conforms(card_from_record(record), p.TaskCard)
            assert_conforms(history_row(record), p.HistoryRow)
        from kling_studio import compare as cmp

        plan = cmp.Plan(
            group_id="g",
            title="t",
            created=0.0,
            differing=["prompt"],
            entries=[
                cmp.Entry("A", {"prompt": "a lake"}, "h1", local_id=done),
                cmp.Entry("B", {"prompt": "a sea"}, "h2"),
            ],
        )
        assert_conforms(comparison_value(cmp.Comparison(history, plan)), p.Comparison)
    pic = read_picture(make_picture(), "image", name="red.png")
    assert_conforms(picture_info(pic, "image"), p.PictureInfo)
    assert_conforms(url_picture_info(image, "image"), p.PictureInfo)


def test_the_checker_catches_a_missing_an_extra_and_a_mistyped_field() -> None:
    good = {"code": None, "message": "m"}
    assert_conforms(good, p.ErrorInfo)
    for bad in ({"message": "m"}, {**good, "extra": 1}, {"code": 3, "message": "m"}):
        with pytest.raises(AssertionError):
            assert_conforms(bad, p.ErrorInfo)


def assert_conforms(value: Any, tp: Any, where: str = "value") -> None:
    """`value` has exactly the shape `tp` declares (TypedDicts: no key missing, none extra)."""
    if is_typeddict(tp):
        assert isinstance(value, dict), f"{where}: {value!r} is not an object"
        hints = typing.get_type_hints(tp, include_extras=True)
        optional = {k for k, t in hints.items() if get_origin(t) is NotRequired}
        missing = set(hints) - optional - set(value)
        extra = set(value) - set(hints)
        assert not missing and not extra, f"{where}: missing {missing}, extra {extra}"
        for key, item in value.items():
            t = hints[key]
            if get_origin(t) is NotRequired:
                t = get_args(t)[0]
            assert_conforms(item, t, f"{where}.{key}")
        return
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return
    if origin is Literal:
        assert value in args, f"{where}: {value!r} is not one of {args}"
    elif origin is Union or origin is types.UnionType:
        problems = []
        for option in args:
            try:
                assert_conforms(value, option, where)
                return
            except AssertionError as exc:
                problems.append(str(exc))
        raise AssertionError(" / ".join(problems))
    elif origin is list:
        assert isinstance(value, list), f"{where}: {value!r} is not a list"
        for n, item in enumerate(value):
            assert_conforms(item, args[0], f"{where}[{n}]")
    elif origin is dict:
        assert isinstance(value, dict), f"{where}: {value!r} is not an object"
        for key, item in value.items():
            assert_conforms(item, args[1], f"{where}.{key}")
    elif tp is type(None):
        assert value is None, f"{where}: {value!r} is not null"
    elif tp is float:
        assert isinstance(value, int | float) and not isinstance(value, bool), f"{where}: {value!r}"
    elif tp is int:
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: {value!r}"
    else:
        assert isinstance(value, tp), f"{where}: {value!r} is not {tp}"
