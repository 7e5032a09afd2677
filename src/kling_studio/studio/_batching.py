"""The studio's batches and summaries: `batch(table)` runs a table of requests as a comparison
shown in the widget, `plan_batch(table)` says what it would cost, `compare_summary(group_id)`
sums a comparison up (a mixin of Studio; the work is compare/'s)."""

from __future__ import annotations

import os
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from .. import compare as cmp
from ..pictures import Picture

if TYPE_CHECKING:
    import pandas as pd

    from ..runner import Runner
    from ._desk import Desk

T = TypeVar("T")


class BatchMethods:
    """`plan_batch`, `batch` and `compare_summary` (a mixin of Studio)."""

    _desk: Desk
    _pictures: dict[str, Picture | str | None]
    form: dict[str, Any]
    runner: Runner

    if TYPE_CHECKING:  # Studio's own (a stub here would shadow it)

        def _run(self, coro: Coroutine[Any, Any, T]) -> T: ...

    def _batch_defaults(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """The form's fields (and pictures) for the cells a table leaves empty."""
        form = self.form
        image = self._pictures.get("image")
        tail = self._pictures.get("image_tail")
        defaults: dict[str, Any] = {
            "prompt": form.get("prompt") or None,
            "image": image.data if isinstance(image, Picture) else image,
            "image_tail": tail.data if isinstance(tail, Picture) else tail,
            "resolution": form.get("resolution") or None,
            "duration": form.get("duration") or None,
            "generate_audio": True if form.get("generate_audio") else None,
            "negative_prompt": form.get("negative_prompt") or None,
            "voice_ids": [v for v in form.get("voice_ids") or [] if v] or None,
        }
        return defaults | overrides

    def plan_batch(self, table: pd.DataFrame | str | os.PathLike[str], **defaults: Any) -> Any:
        """What `batch(table)` would do, sending nothing: every row checked (InputError naming
        each bad row), the budgets asked, and `{rows, send, reuse, attach, credits, ...}`."""
        checked = cmp.check_table(table, self._batch_defaults(defaults))
        costs = cmp.plan_costs(self.runner.budgeting, checked)
        self.runner.budgeting.check(*[r.variant.request for r in costs["to_send"]])
        return {k: v for k, v in costs.items() if k != "to_send"}

    def batch(
        self,
        table: pd.DataFrame | str | os.PathLike[str],
        *,
        reuse: bool = True,
        max_concurrency: int = cmp.DEFAULT_MAX_CONCURRENCY,
        title: str | None = None,
        timeout: float | None = None,
        progress: bool = True,
        **defaults: Any,
    ) -> pd.DataFrame:
        """Run a table of requests and return it with `local_id`, `task_id`, `status`,
        `video_path`, `credits` and the measures of each video joined on.

        `table`: a DataFrame or a CSV file's path. Its columns are request fields by their wire
        names or the command line's (prompt, image, image_tail, duration, resolution,
        negative_prompt, generate_audio, voice_ids); any other column can be used in a prompt
        as `{name}`. An empty cell takes the form's value (or the keyword given here). Every
        row is checked and the whole batch is held to the budgets before anything is sent.
        The batch becomes a comparison shown in the widget; a row that finished before (same
        request) is reused and a row whose task is still on its way is followed, so running
        a killed batch again pays nothing twice. `progress`: a bar in the cell's output."""
        checked = cmp.check_table(table, self._batch_defaults(defaults))
        bar = _progress_bar(len(checked)) if progress else None

        def tick(done: int, total: int) -> None:
            if bar is not None:
                bar.n = done
                bar.refresh()

        async def go() -> cmp.Batch:
            await self.runner.resume()  # a killed run's tasks: followed, not sent again
            batch = await cmp.run_batch(
                self.runner,
                self.runner.client,
                checked,
                reuse=reuse,
                max_concurrency=max_concurrency,
                title=title,
            )
            self._desk.adopt(batch.comparison)
            await cmp.wait_batch(batch, self.runner, progress=tick, timeout=timeout)
            return batch

        try:
            batch = self._run(go())
        finally:
            if bar is not None:
                bar.close()
        self._desk.show(self._desk.get(batch.group_id))
        return cmp.batch_result(self.runner.history, batch)

    def compare_summary(self, group_id: str | None = None) -> cmp.CompareSummary:
        """What a comparison (the latest by default) showed, per axis of its grid: each
        level's mean rating, rating count, measures and credits, the best level per measure,
        and whether the rating difference is more than noise (see `compare.summarise_grid`)."""
        comparison = self._desk.get(group_id)
        return cmp.compare_summary(self.runner.history, comparison.group_id)

    def measure_with_clip(self, group_id: str | None = None, *, encoder: Any = None) -> int:
        """Add `text_alignment` and `aesthetic` to a comparison's (the latest by default)
        measures with an open CLIP model: needs `pip install "kling-studio[clip]"`, and fetches
        the model on this first call (`encoder`: your own, see media/_clip.py). Returns how
        many videos were measured; compare_df() and the summary show the new columns."""
        from ..runner._measuring import add_clip_measures

        comparison = self._desk.get(group_id)
        ids = [e.local_id for e in comparison.entries if e.local_id]
        done: int = self._run(_in_thread(add_clip_measures, self.runner.history, ids, encoder))
        return done


async def _in_thread(function: Any, *args: Any) -> Any:
    import asyncio

    return await asyncio.to_thread(function, *args)


def _progress_bar(total: int) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="row", desc="batch")
