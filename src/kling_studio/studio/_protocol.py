"""Every shape that crosses between the studio and its front end, declared once.

`js/protocol.gen.ts` is generated from this module (`python scripts/gen_protocol.py`), and
`tests/studio/test_protocol.py` fails when the committed file differs from a fresh one, or when
the Python that builds a shape (cards, rows, cells, traits) strays from its declaration here.

To add a message kind: declare its fields (`<Kind>Msg`) and its reply's `data` below, add one
entry to `REQUESTS`, write `Messages.msg_<kind>`, and regenerate. See docs/architecture.md.
"""

from __future__ import annotations

from typing import Any, Final, Literal, NotRequired, TypedDict, cast

from .. import contract as c
from ..history._view import VIDEO_STATES, ErrorInfo, VideoState
from ..statuses import RECORD_STATUSES, SHOWN, TICKING, RecordStatus, ShownStatus

# --- words --------------------------------------------------------------------------------

Slot = Literal["image", "image_tail"]
# What a person sees (statuses.SHOWN): a card's, a history row's or a variant's status.
TaskStatus = ShownStatus
ParamValue = str | int | float | bool

# --- traits -------------------------------------------------------------------------------


class Backend(TypedDict):
    mode: Literal["simulator", "foxapi", "gateway"]
    base_url: str
    label: str


class Rules(TypedDict):
    """The contract's limits (contract.rules_for_front_end); the front end checks with these."""

    prompt_max: int
    negative_prompt_max: int
    segment_prompt_max: int
    segments_max: int
    segment_min_seconds: int
    voices_max: int
    resolutions: list[str]
    durations: list[int]
    picture_formats: list[str]
    picture_max_bytes: int
    picture_min_side: int
    aspect_min: float
    aspect_max: float


class Segment(TypedDict):
    prompt: str
    duration: int


class Form(TypedDict):
    prompt: str
    negative_prompt: str
    resolution: str
    duration: int
    generate_audio: bool
    voice_ids: list[str]
    multi_prompt: list[Segment]


class PictureInfo(TypedDict):
    name: str
    source: Literal["file", "url"]
    url: str | None
    width: int
    height: int
    size: int
    format: str
    thumb: str | None  # a small data:image/jpeg URL made by Python
    problems: list[str]


class Pictures(TypedDict):
    image: PictureInfo | None
    image_tail: PictureInfo | None


class BackendError(TypedDict):
    message: str
    at: float


class CardSettings(TypedDict):
    resolution: str
    duration: int
    generate_audio: bool


class TaskCard(TypedDict):
    local_id: str
    task_id: str | None
    status: TaskStatus
    progress: int
    prompt: str
    created: float
    elapsed: float
    remaining: float | None
    error: ErrorInfo | None
    has_video: bool
    poster: str | None  # a small data:image/jpeg URL once the video is saved
    settings: CardSettings


class HistoryRow(TypedDict):
    local_id: str
    task_id: str | None
    user: str | None  # the author (a shared history holds several people's tasks)
    status: TaskStatus
    prompt: str
    negative_prompt: str | None
    resolution: str
    duration: int
    generate_audio: bool
    created: float
    finished: float | None
    elapsed: float | None
    error_code: str | None
    error_message: str | None
    has_video: bool
    poster: str | None  # a small data:image/jpeg URL, unless poster_route names where it is
    poster_route: str | None  # the media route of the poster, when the page asked for routes
    stitched_from: list[str] | None  # a joined result's parts (local ids, in play order)


class RaterRating(TypedDict):
    """One person's judgement of a variant (everyone's, the viewer's included)."""

    user: str
    rating: int | None
    winner: bool
    note: str


class VariantMeasures(TypedDict):
    """The measures of a variant's video (docs/measures.md); None until measured."""

    first_frame_match: float | None
    last_frame_match: float | None
    motion: float | None
    flicker: float | None
    frozen_share: float | None
    cuts: int | None
    sharpness: float | None
    text_alignment: float | None
    aesthetic: float | None


class Variant(TypedDict):
    local_id: str | None
    label: str  # in blind mode, until the viewer rated all: a neutral A, B, ... in shown order
    params: dict[str, ParamValue]  # only the differing parameters, already short; {} when blind
    status: TaskStatus
    progress: int
    has_video: bool
    poster: str | None
    reused: bool
    rating: int | None  # the viewer's (the studio's user); rating_mean/count: everyone's
    winner: bool
    note: str
    rating_mean: float | None
    rating_count: int
    raters: list[RaterRating]  # by user, alphabetically
    error: ErrorInfo | None
    measures: VariantMeasures | None  # None until its video is measured


class SummaryTest(TypedDict):
    """Whether an axis's levels differ in rating by more than noise (compare/_summary.py)."""

    test: str
    p_value: float | None
    significant: bool
    enough: bool  # every level had enough ratings to test
    note: str


class SummaryLevel(TypedDict):
    value: str  # the level as text
    labels: list[str]
    rating_mean: float | None
    rating_count: int
    measures: VariantMeasures
    credits: float | None


class SummaryAxis(TypedDict):
    axis: str
    levels: list[SummaryLevel]
    best: dict[str, str | None]  # figure -> the best level's value (None: a tie)
    test: SummaryTest


class ComparisonSummary(TypedDict):
    """What the comparison showed per axis (`compare_summary`); only once revealed."""

    axes: list[SummaryAxis]


class Comparison(TypedDict):
    group_id: str
    title: str
    confirm_above: int
    differing: list[str]  # [] while blind
    variants: list[Variant]
    user: str  # the viewer, whose rating each variant's `rating` is
    blind: bool  # blind judging asked for (`compare_blind`, studio.compare(blind=True))
    revealed: bool  # false while blind and the viewer has not rated every variant
    summary: ComparisonSummary | None  # None while blind, or while variants still run


class CostEstimate(TypedDict):
    """What the form's request will reserve, shown next to Generate (studio/_spending.py)."""

    credits: float | None  # None: unknown until a first task with these billing settings
    source: Literal["last task", "price table", "unknown"]
    text: str


class Spending(TypedDict):
    """The spend against the budgets that hold this user, shown in the header."""

    text: str  # e.g. "Spent 20 of 50 credits today · 2 of 3 tasks this session"
    over: bool  # at or past a limit: the next task would be refused (or warned about)


class Traits(TypedDict):
    """Every trait of the widget (`AnyModel<Traits>` in the front end)."""

    backend: Backend | None
    rules: Rules | None
    form: Form | None
    pictures: Pictures | None
    history_count: int
    history_rev: int
    error: BackendError | None
    comparison: Comparison | None
    estimate: CostEstimate | None
    spending: Spending | None  # None: no budget holds this user


# --- requests (JS -> Python) and their replies' data -------------------------------------


class Axes(TypedDict):
    """One list per axis of the grid; an empty list means "the form's value"."""

    prompts: list[str]
    negative_prompts: list[str]
    resolutions: list[str]
    durations: list[int]
    use_tail: list[bool]


class PlanVariant(TypedDict):
    label: str
    params: dict[str, ParamValue]


class PlanCosts(TypedDict):
    """What a comparison plan would cost (studio/_spending.py)."""

    credits: float  # the known estimates of the variants that would be sent, added up
    unknown: int  # variants whose cost is unknown until a first task with their settings
    cost_text: str  # e.g. "≈ 40 credits for 4 tasks"
    over_budget: str | None  # why running it would be refused whole (BudgetExceeded), if so


class ComparePlan(PlanCosts):
    count: int
    variants: list[PlanVariant]
    differing: list[str]
    reused: int
    confirm_above: NotRequired[int]  # EXTENSION asked for by the front end


class SnapshotMsg(TypedDict):
    # The page loads posters by route: cards of earlier sessions' tasks come without their poster
    # bytes (the history rows name the poster's route).
    poster_routes: NotRequired[bool]


class Snapshot(TypedDict):
    cards: list[TaskCard]


class SetPictureMsg(TypedDict):
    slot: Slot
    name: NotRequired[str]  # with the bytes as the one buffer
    url: NotRequired[str]  # or a URL


class ClearPictureMsg(TypedDict):
    slot: Slot


class GenerateMsg(TypedDict):
    pass


class LocalId(TypedDict):
    local_id: str


class HistoryMsg(TypedDict):
    offset: NotRequired[int]
    limit: NotRequired[int]
    status: NotRequired[RecordStatus]
    text: NotRequired[str]
    # The page can load posters from the Jupyter server's media route: send routes, not bytes.
    poster_routes: NotRequired[bool]


class HistoryPage(TypedDict):
    rows: list[HistoryRow]
    total: int


class VideoMsg(TypedDict):
    local_id: str
    force_bytes: NotRequired[bool]  # EXTENSION: ask for the bytes when the URL failed


class VideoReply(TypedDict):
    url: str | None  # absolute http(s): a signed store URL, or FoxAPI's while it is valid
    route: str | None  # the Jupyter server's media route, relative to the page's base URL
    mime: str
    size: int | None
    chunks: int


class LoadSettingsMsg(TypedDict):
    local_id: str


class RemixMsg(TypedDict):
    local_id: str
    changes: dict[str, Any]  # form fields


class ComparePlanMsg(TypedDict):
    axes: Axes


class CompareRunMsg(TypedDict):
    axes: Axes
    confirmed: bool


class GroupId(TypedDict):
    group_id: str


class CompareOpenMsg(TypedDict):
    group_id: str


class CompareBlindMsg(TypedDict):
    blind: bool


class RateMsg(TypedDict):
    local_id: str
    rating: NotRequired[int | None]  # null removes the rating
    winner: NotRequired[bool]
    note: NotRequired[str]


class ContinueFromMsg(TypedDict):
    local_id: str
    slot: Slot  # "image_tail": use the last frame as the last frame


class StitchMsg(TypedDict):
    local_ids: list[str]  # in order; at least two finished videos


# kind -> (the request's fields besides kind and req_id, the reply's data; None for null).
# Every kind here has a `Messages.msg_<kind>` and the other way round (tests/studio).
REQUESTS: Final[dict[str, tuple[type, type | None]]] = {
    "snapshot": (SnapshotMsg, Snapshot),
    "set_picture": (SetPictureMsg, PictureInfo),
    "clear_picture": (ClearPictureMsg, None),
    "generate": (GenerateMsg, LocalId),
    "history": (HistoryMsg, HistoryPage),
    "video": (VideoMsg, VideoReply),
    "load_settings": (LoadSettingsMsg, None),
    "remix": (RemixMsg, LocalId),
    "compare_plan": (ComparePlanMsg, ComparePlan),
    "compare_run": (CompareRunMsg, GroupId),
    "compare_open": (CompareOpenMsg, None),
    "compare_blind": (CompareBlindMsg, None),
    "rate": (RateMsg, None),
    "continue_from": (ContinueFromMsg, PictureInfo),
    "stitch": (StitchMsg, LocalId),
}

# --- messages Python -> JS ----------------------------------------------------------------


class ReplyError(TypedDict):
    message: str
    field: NotRequired[str | None]


class ReplyMessage(TypedDict):
    kind: Literal["reply"]
    req_id: str
    ok: bool
    data: NotRequired[Any]
    error: NotRequired[ReplyError]


class TaskMessage(TypedDict):
    kind: Literal["task"]
    card: TaskCard


class VideoChunkMessage(TypedDict):
    kind: Literal["video_chunk"]
    req_id: str
    seq: int
    total: int
    mime: str


PUSHES: Final = (ReplyMessage, TaskMessage, VideoChunkMessage)

# --- values the front end starts from -----------------------------------------------------


def default_form() -> Form:
    """The empty form (also the front end's EMPTY_FORM, generated from this)."""
    return {
        "prompt": "",
        "negative_prompt": "",
        "resolution": c.DEFAULT_RESOLUTION,
        "duration": c.DEFAULT_DURATION,
        "generate_audio": False,
        "voice_ids": [],
        "multi_prompt": [],
    }


def default_rules() -> Rules:
    """The contract's limits (also the front end's DEFAULT_RULES, generated from this)."""
    return cast(Rules, c.rules_for_front_end())  # tests/studio/test_protocol.py checks it


# The constants the generated file exports, by their TypeScript names.
CONSTANTS: Final[dict[str, Any]] = {
    "TASK_STATUSES": [str(s) for s in SHOWN],
    "RECORD_STATUSES": [str(s) for s in RECORD_STATUSES],
    "TICKING_STATUSES": sorted(str(s) for s in TICKING),
    "VIDEO_STATES": list(VIDEO_STATES),
    "REQUEST_KINDS": list(REQUESTS),
}

# Every declared shape, in the order the generated file lists them.
SHAPES: Final = (
    Backend,
    Rules,
    Segment,
    Form,
    PictureInfo,
    Pictures,
    BackendError,
    ErrorInfo,
    CardSettings,
    TaskCard,
    HistoryRow,
    RaterRating,
    VariantMeasures,
    Variant,
    SummaryTest,
    SummaryLevel,
    SummaryAxis,
    ComparisonSummary,
    Comparison,
    CostEstimate,
    Spending,
    Traits,
    Axes,
    PlanVariant,
    PlanCosts,
    ComparePlan,
    Snapshot,
    LocalId,
    HistoryPage,
    VideoReply,
    GroupId,
    *(request for request, _reply in REQUESTS.values()),
    ReplyError,
    *PUSHES,
)
ALIASES: Final = {
    "Slot": Slot,
    "TaskStatus": TaskStatus,
    "RecordStatus": RecordStatus,
    "VideoState": VideoState,
    "ParamValue": ParamValue,
}
