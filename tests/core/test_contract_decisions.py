"""contract.py: every name it declares is read by the code, and the open-question decisions of
docs/contract.md section 7 change behaviour where they are read."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kling_studio import contract as c
from kling_studio.errors import InputError
from kling_studio.pictures import is_url, load_local_picture

PACKAGE = Path(c.__file__).parent


def _declared() -> list[str]:
    tree = ast.parse(Path(c.__file__).read_text(encoding="utf-8"))
    return [
        node.target.id
        for node in tree.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    ]


def test_every_name_of_the_contract_is_read_somewhere() -> None:
    # The simulator is left out: it is written from the contract, not from this module.
    sources = [
        p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py") if "simulator" not in p.parts
    ]
    declared = _declared()
    assert "DATA_URLS_ACCEPTED" in declared and "RETRY_AFTER_MAX_S" in declared
    unread = [
        name
        for name in declared
        if sum(len(re.findall(rf"\b{name}\b", text)) for text in sources) < 2  # 1 = definition
    ]
    assert not unread, f"decided but never read: {unread}"


def test_a_data_url_is_refused_before_sending_while_the_contract_says_so() -> None:
    data_url = "data:image/png;base64,iVBORw0KGgo="
    assert c.DATA_URLS_ACCEPTED is False
    assert not is_url(data_url)
    with pytest.raises(InputError, match="data: URLs are not accepted"):
        load_local_picture(data_url, "image")


def test_accepting_data_urls_is_a_one_line_change(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(c, "DATA_URLS_ACCEPTED", True)
    assert is_url("data:image/png;base64,iVBORw0KGgo=")  # passed to FoxAPI as a URL
    assert not is_url("/tmp/picture.png")
