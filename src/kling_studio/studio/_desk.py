"""The studio's comparisons, for the widget: plans from the form, runs, the one on screen, ratings.

`Desk` holds what the `Studio` needs and nothing of anywidget: it turns `compare_*` and `rate`
messages into `compare.py` calls and publishes the `comparison` trait's value
(docs/widget-protocol.md, "A/B comparison"). The trait is rebuilt only when a variant's status
changes (or a rating), never on a progress tick.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, cast

from .. import compare as cmp
from ..client._async import AsyncClient
from ..compare._summary import summarise_plan
from ..errors import InputError
from ..history._records import TaskRecord
from ..media._posters import poster_data_url
from ..models import VideoRequest
from ..pictures import PictureSource
from ..runner import Runner
from ..statuses import ACTIVE, Status
from ._protocol import (
    ComparePlan,
    Comparison,
    ComparisonSummary,
    SummaryAxis,
    SummaryLevel,
    Variant,
    VariantMeasures,
)
from ._spending import plan_costs

AXES: Final = ("prompts", "negative_prompts", "resolutions", "durations", "use_tail")
PARAM_TEXT_MAX: Final = 160  # params in a cell are short; the full text is in compare_df()

Publish = Callable[[Comparison | None], None]
Released = Callable[[frozenset[str]], None]


class Desk:
    """Comparisons of one studio: at most one on screen, any number running."""

    def __init__(
        self,
        runner: Runner,
        client: AsyncClient,
        publish: Publish,
        released: Released | None = None,
    ) -> None:
        self.runner = runner
        self.client = client
        self.history = runner.history
        self._publish = publish
        self._released = released  # told which tasks may be shown again after blind judging
        self._comparisons: dict[str, cmp.Comparison] = {}  # run by this studio
        self._shown: cmp.Comparison | None = None
        self._seen: dict[str, tuple[Any, ...]] = {}  # local_id -> what the trait last showed
        self._measured: dict[str, bool] = {}  # local_id -> whether the trait had its measures
        self.blind = False  # blind judging of the comparison on screen (compare/_blind.py)
        # Comparisons this viewer judges blind and has not rated through yet, by group id: their
        # tasks' cards and history rows are held back (they carry the settings, and the order
        # they were sent in is the plan's), until revealed or blind judging is switched off.
        self._judging: dict[str, cmp.Comparison] = {}

    def hidden(self) -> frozenset[str]:
        """The local ids whose cards and history rows the widget must not send now."""
        judging = dict(self._judging)  # read from the kernel's thread too
        if not judging:
            return frozenset()
        ids = {e.local_id for c in judging.values() for e in c.entries if e.local_id}
        return frozenset(ids | self.runner.in_groups(judging))

    # --- plans and runs ---------------------------------------------------------------------

    def plan_reply(self, grid: cmp.Grid) -> ComparePlan:
        """The `compare_plan` answer: nothing is sent to FoxAPI to make it."""
        differing = grid.differing()
        return {
            "count": len(grid),
            "variants": [
                {"label": v.label, "params": short_params(v.params, differing)} for v in grid
            ],
            "differing": differing,
            "reused": cmp.count_reusable(self.history, grid),
            "confirm_above": cmp.CONFIRM_ABOVE,  # EXTENSION asked for by the front end
            **plan_costs(self.runner, grid),
        }

    async def run(
        self,
        grid: cmp.Grid,
        *,
        confirm: bool,
        hint: str,
        reuse: bool = True,
        max_concurrency: int = cmp.DEFAULT_MAX_CONCURRENCY,
        title: str | None = None,
        group_id: str | None = None,
        blind: bool | None = None,
    ) -> cmp.Comparison:
        """Start a grid and show it (blind when `blind`); refuse a big one without
        confirmation."""
        if len(grid) > cmp.CONFIRM_ABOVE and not confirm:
            reused = cmp.count_reusable(self.history, grid) if reuse else 0
            raise InputError(f"{cmp.confirm_problem(len(grid), reused)}; {hint}", "confirmed")
        comparison = await cmp.run_grid(
            self.runner,
            self.client,
            grid,
            group_id=group_id,
            reuse=reuse,
            max_concurrency=max_concurrency,
            title=title,
        )
        self._comparisons[comparison.group_id] = comparison
        comparison.on_change(self._on_change)
        self.show(comparison, blind=blind)
        return comparison

    def adopt(self, comparison: cmp.Comparison) -> None:
        """Keep and show a comparison started elsewhere (a batch, compare/_batch.py)."""
        self._comparisons[comparison.group_id] = comparison
        comparison.on_change(self._on_change)
        self.show(comparison)

    def get(self, group_id: str | None = None) -> cmp.Comparison:
        """A comparison by id (the latest when None): the live one if this studio runs it."""
        if group_id is None:
            group_id = cmp.latest_group_id(self.history)
            if group_id is None:
                raise InputError("no comparison yet: run one with studio.compare(...)", "group_id")
        if group_id in self._comparisons:
            return self._comparisons[group_id]
        return cmp.Comparison(self.history, cmp.load_plan(self.history, group_id))

    def show(self, comparison: cmp.Comparison | None, *, blind: bool | None = None) -> None:
        """Put a comparison on screen; `blind` switches blind judging (None: as it was)."""
        self._shown = comparison
        if blind is not None:
            self.blind = bool(blind)
        self._republish()

    def set_blind(self, blind: bool) -> None:
        self.blind = bool(blind)
        self._republish()

    async def join(self) -> None:
        """Wait until every comparison of this studio has started and finished its variants."""
        for comparison in list(self._comparisons.values()):
            await comparison.wait()

    def cancel_all(self) -> None:
        for comparison in self._comparisons.values():
            comparison.cancel()

    # --- ratings ----------------------------------------------------------------------------

    def rate(
        self,
        local_id: str,
        *,
        rating: int | None = None,
        winner: bool | None = None,
        note: str | None = None,
        clear_rating: bool = False,
    ) -> TaskRecord:
        record = cmp.rate(
            self.history,
            local_id,
            rating=rating,
            winner=winner,
            note=note,
            clear_rating=clear_rating,
        )
        if self._shown is not None and any(e.local_id == local_id for e in self._shown.entries):
            self._republish()
        return record

    def rate_message(self, msg: Mapping[str, Any]) -> None:
        """`rate`: a key left out is unchanged; `rating: null` removes the rating."""
        local_id = msg.get("local_id")
        if not isinstance(local_id, str) or not local_id:
            raise InputError("rate needs the variant's local_id", "local_id")
        rating = msg.get("rating")
        self.rate(
            local_id,
            rating=rating,
            winner=msg.get("winner"),
            note=msg.get("note"),
            clear_rating="rating" in msg and rating is None,
        )

    # --- the trait --------------------------------------------------------------------------

    def on_card(self, card: Mapping[str, Any]) -> None:
        """A runner card: republish only when a shown variant's status (or video) changed."""
        local_id = card.get("local_id")
        if self._shown is None or local_id not in self._seen:
            return
        key = (card.get("status"), card.get("has_video"), bool(card.get("error")))
        # A saved video is measured just after it is shown: its last card brings the numbers.
        unmeasured = bool(card.get("has_video")) and not self._measured.get(local_id, False)
        if self._seen[local_id] != key or unmeasured:
            self._republish()

    def _on_change(self, comparison: cmp.Comparison) -> None:
        if comparison is self._shown:
            self._republish()

    def _republish(self) -> None:
        shown = self._shown
        if shown is None:
            self._seen = {}
            self._publish(None)
            return
        value = comparison_value(shown, blind=self.blind)
        before = self.hidden()
        if value["blind"] and not value["revealed"]:
            self._judging[shown.group_id] = shown
        else:
            self._judging.pop(shown.group_id, None)
        self._seen = {
            v["local_id"]: (v["status"], v["has_video"], bool(v["error"]))
            for v in value["variants"]
            if v["local_id"]
        }
        self._measured = {
            v["local_id"]: v["measures"] is not None for v in value["variants"] if v["local_id"]
        }
        self._publish(value)
        released = before - self.hidden()
        if released and self._released is not None:
            self._released(released)


def comparison_value(comparison: cmp.Comparison, *, blind: bool = False) -> Comparison:
    """The `comparison` trait: the plan, each variant's state from the history, the viewer's
    judgement and everyone's. Blind (until the viewer rated every variant): the viewer's own
    order, neutral labels, and no parameters at all (they never reach the front end)."""
    plan = comparison.plan
    history = comparison.history
    records = {e.local_id: history.get(e.local_id) for e in plan.entries if e.local_id}
    shown = cmp.blind_view(
        plan.entries, records, user=history.user, group_id=plan.group_id, blind=blind
    )
    differing = plan.differing if shown.revealed else []
    everyone = history.judgements(e.local_id for e in plan.entries if e.local_id)
    measured = history.measures_of(e.local_id for e in plan.entries if e.local_id)
    variants: list[Variant] = []
    for entry in shown.entries:
        record = records.get(entry.local_id) if entry.local_id else None
        seen = cmp.variant_view(comparison, entry, record)
        judged = everyone.get(entry.local_id, []) if entry.local_id else []
        summary = cmp.summarise(judged)
        variants.append(
            {
                "local_id": entry.local_id,
                "label": shown.labels[entry.label],
                "params": short_params(entry.params, differing),
                "status": seen.status,
                "progress": record.progress if record else 0,
                "has_video": seen.video == "saved",
                "poster": poster_data_url(record.video_path)
                if record and record.has_video
                else None,
                "reused": entry.reused,
                "rating": record.rating if record else None,
                "winner": bool(record and record.winner),
                "note": (record.note or "") if record else "",
                "rating_mean": summary.mean,
                "rating_count": summary.count,
                "raters": [
                    {"user": j.user, "rating": j.rating, "winner": j.winner, "note": j.note}
                    for j in judged
                ],
                "error": seen.error,
                "measures": variant_measures(measured.get(entry.local_id or "")),
            }
        )
    return {
        "group_id": plan.group_id,
        "title": plan.title,
        "confirm_above": cmp.CONFIRM_ABOVE,
        "differing": differing,
        "variants": variants,
        "user": history.user,
        "blind": blind,
        "revealed": shown.revealed,
        "summary": summary_value(comparison, variants) if shown.revealed else None,
    }


def variant_measures(stored: Mapping[str, Any] | None) -> VariantMeasures | None:
    """The cell's measures (history/_measures.py), None until its video is measured."""
    if stored is None or stored.get("error"):
        return None
    return cast(
        VariantMeasures, {name: stored.get(name) for name in VariantMeasures.__annotations__}
    )


def summary_value(comparison: cmp.Comparison, variants: list[Variant]) -> ComparisonSummary | None:
    """The summary panel's data, once no variant runs any more (the test is not free)."""
    if not comparison.plan.differing or any(v["status"] in _RUNNING for v in variants):
        return None
    found = summarise_plan(comparison.history, comparison.plan, measure=False)
    axes: list[SummaryAxis] = []
    for axis in found.axes:
        levels: list[SummaryLevel] = [
            {
                "value": summary_text(level.value),
                "labels": level.labels,
                "rating_mean": level.rating_mean,
                "rating_count": level.rating_count,
                "measures": cast(
                    VariantMeasures,
                    {n: level.measures.get(n) for n in VariantMeasures.__annotations__},
                ),
                "credits": level.credits,
            }
            for level in axis.levels
        ]
        test = axis.test
        axes.append(
            {
                "axis": axis.axis,
                "levels": levels,
                "best": {k: None if v is None else summary_text(v) for k, v in axis.best.items()},
                "test": {
                    "test": test.test,
                    "p_value": test.p_value,
                    "significant": test.significant,
                    "enough": test.enough,
                    "note": test.note,
                },
            }
        )
    return {"axes": axes}


_RUNNING: Final = frozenset(str(s) for s in (*ACTIVE, Status.QUEUED))


def summary_text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def short_params(params: Mapping[str, Any], names: list[str]) -> dict[str, Any]:
    return {name: short_value(params.get(name)) for name in names}


def short_value(value: Any) -> str | int | float | bool:
    """A parameter as a cell shows it: numbers and booleans as they are, the rest as short text."""
    if value is None or value == "" or value == []:
        return "none"
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, list):
        parts = [
            f"{v.get('prompt', '')} ({v.get('duration')} s)" if isinstance(v, dict) else str(v)
            for v in value
        ]
        value = " | ".join(parts)
    text = str(value)
    return text if len(text) <= PARAM_TEXT_MAX else text[: PARAM_TEXT_MAX - 1] + "…"


# --- axes from the front end ----------------------------------------------------------------


def grid_from_axes(
    axes: Any,
    base: VideoRequest,
    *,
    image_tail: PictureSource | None,
    picture_names: Mapping[str, str] | None = None,
) -> cmp.Grid:
    """The grid an `Axes` message describes; an empty list keeps the form's value."""
    if not isinstance(axes, Mapping):
        raise InputError("axes must be an object of lists", "axes")
    unknown = sorted(set(axes) - set(AXES))
    if unknown:
        raise InputError(f"unknown axes {unknown}; the axes are {list(AXES)}", "axes")
    prompts = _list(axes, "prompts", str)
    negative_prompts = _list(axes, "negative_prompts", str)
    resolutions = _list(axes, "resolutions", str)
    durations = [_whole(d) for d in _list(axes, "durations", int | float)]
    use_tail = _list(axes, "use_tail", bool)
    images = None
    if use_tail:
        if any(use_tail) and image_tail is None:
            raise InputError("pick a last frame to compare with and without it", "image_tail")
        images = [(base.image, image_tail if flag else None) for flag in use_tail]
    return cmp.plan_grid(
        base,
        prompts=prompts,
        negative_prompts=negative_prompts,
        resolutions=resolutions,
        durations=durations,
        images=images,
        picture_names=picture_names,
    )


def _list(axes: Mapping[str, Any], name: str, kind: Any) -> list[Any]:
    values = axes.get(name)
    if values is None:
        return []
    if not isinstance(values, list):
        raise InputError(f"{name} must be a list", name)
    for value in values:
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise InputError(f"{name} holds {value!r:.40}, which is not the right kind", name)
    return values


def _whole(value: int | float) -> int:
    if isinstance(value, float):
        if not value.is_integer():
            raise InputError(f"a duration is whole seconds; got {value}", "durations")
        return int(value)
    return value
