"""The studio's A/B comparison methods: plan and run a grid from the form, show it, judge it,
export it (a mixin of Studio; the work is the desk's, _desk.py, and compare/)."""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .. import compare as cmp
from ..errors import InputError
from ..pictures import Picture
from ._protocol import ComparePlan
from ._protocol import Comparison as ComparisonValue

if TYPE_CHECKING:
    import pandas as pd

    from ..client._engine import Engine
    from ..models import VideoRequest
    from ._desk import Desk

T = TypeVar("T")


class ComparisonMethods:
    """`plan_comparison`, `compare`, `compare_df`, `export_comparison`, `show_comparison` and
    `rate` (a mixin of Studio)."""

    _desk: Desk
    _engine: Engine
    _pictures: dict[str, Picture | str | None]

    if TYPE_CHECKING:  # Studio's and traitlets' own (a stub here would shadow them)

        def request(self, **overrides: Any) -> VideoRequest: ...

        def _run(self, coro: Coroutine[Any, Any, T]) -> T: ...

        def set_trait(self, name: str, value: Any) -> None: ...

    def plan_comparison(
        self,
        *,
        prompts: Sequence[str] | None = None,
        negative_prompts: Sequence[str] | None = None,
        resolutions: Sequence[str] | None = None,
        durations: Sequence[int] | None = None,
        images: Sequence[Any] | None = None,
        variants: Sequence[dict[str, Any]] | None = None,
    ) -> ComparePlan:
        """What `compare` would run, sending nothing: `{count, variants, differing, reused}`."""
        grid = self._grid(prompts, negative_prompts, resolutions, durations, images, variants)
        return self._desk.plan_reply(grid)

    def compare(
        self,
        *,
        prompts: Sequence[str] | None = None,
        negative_prompts: Sequence[str] | None = None,
        resolutions: Sequence[str] | None = None,
        durations: Sequence[int] | None = None,
        images: Sequence[Any] | None = None,
        variants: Sequence[dict[str, Any]] | None = None,
        reuse: bool = True,
        max_concurrency: int = cmp.DEFAULT_MAX_CONCURRENCY,
        confirm: bool = False,
        title: str | None = None,
        group_id: str | None = None,
        blind: bool = False,
    ) -> str:
        """Run an A/B grid from the form (the lists given are its axes) and show it; returns
        its group id at once. More than 4 tasks need `confirm=True`. A variant identical to a
        finished task of the history is reused unless `reuse=False`. `blind=True`: judge it
        blind (your own shuffled order, labels A, B, ..., no parameters until you have rated
        every variant)."""
        grid = self._grid(prompts, negative_prompts, resolutions, durations, images, variants)
        comparison = self._run(
            self._desk.run(
                grid,
                confirm=confirm,
                hint="pass confirm=True",
                reuse=reuse,
                max_concurrency=max_concurrency,
                title=title,
                group_id=group_id,
                blind=blind,
            )
        )
        return comparison.group_id

    def compare_df(self, group_id: str | None = None, *, blind: bool = False) -> pd.DataFrame:
        """A row per variant of a comparison (the latest by default): your rating, winner and
        note, `rating_mean`, `rating_count` and a `rating_by_<user>` column per rater. `blind`:
        see `compare.compare_df`."""
        return self._desk.get(group_id).df(blind=blind)

    def export_comparison(
        self, path: str | Path, group_id: str | None = None, *, blind: bool = False
    ) -> Path:
        """Write a comparison (the latest by default) as .csv or as a self-contained .html.
        `blind=True`: as blind judging shows it until you have rated every variant (your own
        shuffled order, labels A, B, ..., no settings nor run times)."""
        comparison = self._desk.get(group_id)
        suffix = Path(path).suffix.lower()
        if suffix == ".csv":
            return comparison.export_csv(path, blind=blind)
        if suffix in (".html", ".htm"):
            return comparison.export_html(path, blind=blind)
        raise InputError(f"export to .csv or .html, not {suffix or 'no extension'!r}", "path")

    def show_comparison(self, group_id: str | None = None, *, blind: bool | None = None) -> None:
        """Show a comparison (the latest by default) in the widget; `blind` switches blind
        judging on or off (None: as it was)."""
        self._desk.show(self._desk.get(group_id), blind=blind)

    def rate(
        self,
        local_id: str,
        rating: int | None = None,
        winner: bool | None = None,
        note: str | None = None,
    ) -> None:
        """Judge a task as this studio's user: a 1-5 rating, a winner mark, a note (None leaves
        a value as it is); other people's judgements stay as they are."""
        self._desk.rate(local_id, rating=rating, winner=winner, note=note)

    def _grid(
        self,
        prompts: Sequence[str] | None,
        negative_prompts: Sequence[str] | None,
        resolutions: Sequence[str] | None,
        durations: Sequence[int] | None,
        images: Sequence[Any] | None,
        variants: Sequence[dict[str, Any]] | None,
    ) -> cmp.Grid:
        overrides: dict[str, Any] = {}
        if images and self._pictures["image"] is None:
            first = images[0]
            overrides["image"] = first[0] if isinstance(first, tuple | list) else first
        return cmp.plan_grid(
            self.request(**overrides),
            prompts=prompts,
            negative_prompts=negative_prompts,
            resolutions=resolutions,
            durations=durations,
            images=images,
            variants=variants,
            picture_names=self._picture_names(),
        )

    def _picture_names(self) -> dict[str, str]:
        """sha256 -> the name the user picked, so a cell says "dusk.png", not a hash."""
        return {
            pic.sha256: pic.name
            for pic in self._pictures.values()
            if isinstance(pic, Picture) and pic.name not in ("", "bytes", "image", "picture")
        }

    def _set_comparison(self, value: ComparisonValue | None) -> None:
        if self._engine.in_engine_thread:  # a grid's change notice: widgets change on our thread
            self._engine.post(lambda: self._set_comparison(value))
            return
        self.set_trait("comparison", value)  # the trait allows None; its stub does not say so
