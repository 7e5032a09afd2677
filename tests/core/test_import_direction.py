"""Imports go one way (docs/architecture.md): each package may import only the layers below it,
and the simulator nothing of the rest. Read from the source, so lazy and TYPE_CHECKING imports
count too."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import kling_studio

PACKAGE = Path(kling_studio.__file__).parent
BOTTOM = {
    "statuses",
    "contract",
    "errors",
    "models",
    "tasks",
    "pictures",
    "config",
    "_secrets",
    "_retry",
    "_files",
}
# part -> the parts it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "statuses": set(),
    **{part: BOTTOM for part in BOTTOM - {"statuses"}},
    # A class gateway's 402 `budget_exceeded` is raised as budget's BudgetExceeded.
    "client": BOTTOM | {"budget"},
    # Budgets, estimates and the ledger: pure rules over the bottom layer; the history holds
    # them (check-and-reserve in the journal's transaction), the runner asks before sending.
    "budget": BOTTOM,
    # Where videos live (a folder or an S3 bucket, obstore): the history, the runner and the
    # player put and fetch through it.
    "store": BOTTOM,
    "media": BOTTOM,  # posters, last frames, stitching: PyAV on files, nothing above pictures
    # The video cache may download through the client's transport.
    "history": BOTTOM | {"client", "media", "budget", "store"},
    "runner": BOTTOM | {"store", "client", "history", "media", "budget"},
    "compare": BOTTOM | {"store", "client", "history", "runner", "media", "budget"},
    # The Jupyter server's media route: it signs and checks links, it imports nothing above.
    "serverext": set(),
    "studio": BOTTOM
    | {
        "store",
        "client",
        "history",
        "runner",
        "compare",
        "media",
        "simulator",
        "budget",
        "serverext",
    },
    "cli": BOTTOM
    | {
        "store",
        "client",
        "history",
        "runner",
        "compare",
        "media",
        "simulator",
        "budget",
        "gateway",
        "app",
    },
    # The class gateway: the runner's journal, budgets, following; the simulator as upstream.
    "gateway": BOTTOM | {"store", "client", "history", "runner", "media", "simulator", "budget"},
    # `kling-studio app`: the server side imports only the bottom; the page's kernel the studio.
    "app": BOTTOM | {"studio"},
    "simulator": set(),
    "__main__": {"cli"},
    "__init__": BOTTOM | {"client", "history", "runner", "studio", "simulator", "budget"},
}


def part_of(module: str) -> str:
    """`kling_studio.history._store` -> `history`; the package itself -> `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports() -> dict[str, set[tuple[str, str]]]:
    """part -> {(imported part, where)} over every module of the package."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        package = module.rsplit(".", 1)[0]
        here = part_of(module)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    target = node.module or ""
                if target == "kling_studio":  # `from .. import contract`: the names are modules
                    targets = [f"kling_studio.{a.name}" for a in node.names]
                else:
                    targets = [target]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for target in targets:
                if target.startswith("kling_studio") and part_of(target) != here:
                    where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
                    found[here].add((part_of(target), where))
    return found


def test_every_part_has_a_rule() -> None:
    parts = {
        part_of(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts))
        for p in PACKAGE.rglob("*.py")
    }
    assert parts <= set(ALLOWED), f"add a rule for {parts - set(ALLOWED)}"


def test_imports_go_down_only() -> None:
    wrong = sorted(
        f"{where}: {part} imports {target}"
        for part, targets in imports().items()
        for target, where in targets
        if target not in ALLOWED[part]
    )
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_relative_and_lazy_imports() -> None:
    found = imports()
    assert any(target == "history" for target, _ in found["runner"])
    assert any(target == "studio" for target, _ in found["__init__"])  # a TYPE_CHECKING import
    assert any(target == "contract" for target, _ in found["studio"])  # `from .. import contract`
    assert not found["simulator"] and not found["statuses"]
