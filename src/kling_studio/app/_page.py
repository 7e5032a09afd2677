"""The kernel side of `kling-studio app`: the packaged notebook's one cell calls show()."""

from __future__ import annotations

from ..config import env
from ..studio import Studio
from ._options import HISTORY_ENV, SHOW_ENV, SIMULATOR_ENV, TIME_SCALE_ENV


def build() -> Studio:
    """A studio from the app's options; the key, the gateway and the user come from the
    environment as in any notebook (config.resolve_service)."""
    simulator = True if env(SIMULATOR_ENV) == "1" else None
    time_scale = env(TIME_SCALE_ENV)
    return Studio(
        history=env(HISTORY_ENV),
        show=env(SHOW_ENV) or "mine",
        simulator=simulator,
        time_scale=float(time_scale) if time_scale else 0.2,
    )


def show() -> Studio:
    """Displays the studio as the cell's only output: the page is the widget, so no static
    fallback beside it (the app always has a kernel)."""
    from IPython.display import display

    studio = build()
    bundle = studio._repr_mimebundle_()
    data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
    display(data, metadata=metadata, raw=True)  # type: ignore[no-untyped-call]
    return studio
