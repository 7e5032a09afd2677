"""Measures of a saved video without any model: how faithful its first (and last) frame is to the
pictures it was made from, how much moves, flicker, frozen stretches, hard cuts and sharpness.

Every formula and range is in docs/measures.md. The video is decoded once, with FFmpeg's frame
threads, and every frame is scaled down to a small luma picture (ANALYSIS_WIDTH wide) by
swscale before numpy sees it; only a few frames (SHARPNESS_SAMPLES) are also taken at
SHARPNESS_WIDTH for sharpness. So a 10 s 1080p clip costs a decode pass and little else.
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from PIL.Image import Image

    Luma = NDArray[np.float32]

# Bump when a formula changes: stored measures of an older version are computed again.
MEASURES_VERSION: Final = 1
ANALYSIS_WIDTH: Final = 160  # px: motion, flicker, frozen, cuts, frame matches
SHARPNESS_WIDTH: Final = 480  # px: sharpness needs detail a 160 px picture no longer has
SHARPNESS_SAMPLES: Final = 8
MAX_PAIRS: Final = 400  # consecutive pairs looked at; longer clips are sampled evenly
FROZEN_BELOW: Final = 0.1  # grey levels of mean |difference|: a pair this close is frozen (an
# encoder repeats a still frame exactly; slow motion still moves 0.2 or more at 160 px)
CUT_ABOVE: Final = 30.0  # grey levels: a pair this different may be a hard cut...
CUT_SPIKE: Final = 3.0  # ...when it is this many times its neighbours' difference
SSIM_WINDOW: Final = 7
BLOCK: Final = 8  # px at ANALYSIS_WIDTH: motion is estimated per block...
SEARCH: Final = 6  # ...within +-SEARCH px...
MOTION_LAG_S: Final = 0.125  # ...between frames this far apart (3 frames at 24 fps)...
MOTION_PAIRS: Final = 24  # ...on this many pairs spread over the clip
MEASURE_NAMES: Final = (
    "first_frame_match",
    "last_frame_match",
    "motion",
    "flicker",
    "frozen_share",
    "cuts",
    "sharpness",
)


@dataclass(frozen=True)
class Measures:
    """What `measure_video` found (None where a measure could not be taken: no tail picture,
    one frame only)."""

    first_frame_match: float | None
    last_frame_match: float | None
    motion: float | None
    flicker: float | None
    frozen_share: float | None
    cuts: int | None
    sharpness: float | None
    frames: int = 0  # frames looked at
    version: int = MEASURES_VERSION

    def values(self) -> dict[str, float | int | None]:
        """The measures by name (MEASURE_NAMES), without the bookkeeping."""
        row = asdict(self)
        return {name: row[name] for name in MEASURE_NAMES}


def measure_video(
    video: str | os.PathLike[str],
    image: Image | bytes | None = None,
    image_tail: Image | bytes | None = None,
) -> Measures:
    """Decode `video` once and measure it; `image` / `image_tail` are the pictures it was made
    from (PIL images or encoded bytes), None to leave their match out. ValueError when the file
    has no decodable frame."""
    import numpy as np

    frames, fps, sharp = _decode(os.fspath(video))
    if not frames:
        raise ValueError("the video has no frame that can be decoded")
    width = frames[0].shape[1]
    diffs = np.array(
        [float(np.mean(np.abs(b - a))) for a, b in itertools.pairwise(frames)],
        dtype=np.float64,
    )
    pairs = len(diffs)
    return Measures(
        first_frame_match=_match(frames[0], image),
        last_frame_match=_match(frames[-1], image_tail),
        motion=_motion(frames, fps, width) if pairs else None,
        flicker=float(diffs.mean()) if pairs else None,
        frozen_share=float(np.mean(diffs < FROZEN_BELOW)) if pairs else None,
        cuts=_cuts(diffs) if pairs else None,
        sharpness=float(np.mean([_laplacian_variance(s) for s in sharp])) if sharp else None,
        frames=len(frames),
    )


# --- decoding ---------------------------------------------------------------------------------


def _decode(path: str) -> tuple[list[Luma], float, list[Luma]]:
    """Every frame's luma at ANALYSIS_WIDTH (evenly sampled beyond MAX_PAIRS + 1 frames), the
    frame rate, and SHARPNESS_SAMPLES frames' luma at SHARPNESS_WIDTH."""
    import av
    import numpy as np

    with av.open(path) as container:
        if not container.streams.video:
            raise ValueError("the file has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame threads: decoding is most of the cost
        total = stream.frames or 0
        fps = float(stream.average_rate) if stream.average_rate else 24.0
        width, height = stream.codec_context.width, stream.codec_context.height
        small = _even_size(width, height, ANALYSIS_WIDTH)
        large = _even_size(width, height, SHARPNESS_WIDTH)
        keep_every = max(1, math.ceil(total / (MAX_PAIRS + 1))) if total else 1
        sharp_every = max(1, total // SHARPNESS_SAMPLES) if total else 12
        frames: list[Luma] = []
        sharp: list[Luma] = []
        for index, frame in enumerate(container.decode(stream)):
            if index % keep_every == 0:
                frames.append(_luma(frame, small))
            if index % sharp_every == sharp_every // 2 and len(sharp) < SHARPNESS_SAMPLES:
                sharp.append(_luma(frame, large))
        if not sharp and frames:
            sharp = [frames[len(frames) // 2]]
    return frames, fps / keep_every, [np.asarray(s) for s in sharp]


def _even_size(width: int, height: int, target: int) -> tuple[int, int]:
    target = min(target, width) if width else target
    scaled = max(2, round(height * target / max(1, width) / 2) * 2)
    return max(2, target // 2 * 2), scaled


def _luma(frame: Any, size: tuple[int, int]) -> Luma:
    """A frame's luma scaled to `size` (swscale, area filter), as float32 grey levels 0..255."""
    import numpy as np

    gray = frame.reformat(width=size[0], height=size[1], format="gray", interpolation="AREA")
    plane = gray.to_ndarray()
    return np.ascontiguousarray(plane[:, : size[0]], dtype=np.float32)


# --- frame matches ----------------------------------------------------------------------------


def _match(frame: Luma, picture: Image | bytes | None) -> float | None:
    """SSIM of `frame` and `picture` (0..1): the picture is center-cropped to the frame's aspect
    (as FoxAPI and the simulator fill the frame) and also padded to it (letterboxed); the better
    of the two counts, so either way the API treats the aspect, a faithful frame scores ~1."""
    if picture is None:
        return None
    import numpy as np
    from PIL import Image as PILImage
    from PIL import ImageOps

    if isinstance(picture, bytes | bytearray):
        import io

        picture = PILImage.open(io.BytesIO(picture))
    gray = ImageOps.exif_transpose(picture).convert("L")
    height, width = frame.shape
    cropped = ImageOps.fit(gray, (width, height), PILImage.Resampling.BOX)
    padded = ImageOps.pad(gray, (width, height), PILImage.Resampling.BOX, color=0)
    scores = [ssim(frame, np.asarray(p, dtype=np.float32)) for p in (cropped, padded)]
    return max(0.0, min(1.0, max(scores)))


def ssim(a: Luma, b: Luma) -> float:
    """Mean structural similarity (Wang et al. 2004) of two grey pictures of one size, 0..255,
    with SSIM_WINDOW x SSIM_WINDOW uniform windows and the usual constants; -1..1."""
    import numpy as np

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    mu_a, mu_b = _box(a64), _box(b64)
    var_a = _box(a64 * a64) - mu_a * mu_a
    var_b = _box(b64 * b64) - mu_b * mu_b
    cov = _box(a64 * b64) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return float(np.mean(num / den))


def _box(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Means over every whole SSIM_WINDOW-square window (summed-area table)."""
    import numpy as np

    k = SSIM_WINDOW
    table = np.pad(x, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    sums = table[k:, k:] - table[:-k, k:] - table[k:, :-k] + table[:-k, :-k]
    result: NDArray[np.float64] = sums / (k * k)
    return result


# --- motion, cuts, sharpness ------------------------------------------------------------------


def _motion(frames: list[Luma], fps: float, width: int) -> float:
    """Mean displacement of textured blocks between frames MOTION_LAG_S apart (block matching
    within +-SEARCH px, refined to a tenth of a pixel), as a percentage of the frame's width per
    second. Frames a few apart, not neighbours: slow motion moves less than a pixel per frame."""
    import numpy as np

    lag = max(1, min(len(frames) - 1, round(fps * MOTION_LAG_S)))
    starts = range(0, len(frames) - lag)
    step = max(1, len(starts) // MOTION_PAIRS)
    shifts = [_block_shift(frames[i], frames[i + lag]) for i in starts[::step]]
    per_frame = float(np.mean(shifts)) / lag if shifts else 0.0
    return per_frame / width * 100.0 * fps


def _block_shift(a: Luma, b: Luma) -> float:
    """The mean displacement (px) of the blocks of `a` that have texture, found in `b`."""
    import numpy as np

    s, k = SEARCH, BLOCK
    h, w = a.shape
    rows, cols = (h - 2 * s) // k, (w - 2 * s) // k
    if rows < 1 or cols < 1:
        return 0.0
    core = a[s : s + rows * k, s : s + cols * k]
    textured = core.reshape(rows, k, cols, k).std(axis=(1, 3)) > 4.0  # flat blocks match anywhere
    if not textured.any():
        return 0.0
    side = 2 * s + 1
    sad = np.empty((side, side, rows, cols), dtype=np.float32)
    for dy in range(side):
        for dx in range(side):
            moved = b[dy : dy + rows * k, dx : dx + cols * k]
            sad[dy, dx] = np.abs(moved - core).reshape(rows, k, cols, k).mean(axis=(1, 3))
    sad[s, s] -= 0.5  # a shift must beat the standing block clearly: noise alone moves nothing
    flat = sad.reshape(side * side, rows, cols).argmin(axis=0)
    iy, ix = np.divmod(flat, side)
    r, c = np.nonzero(textured)
    iy, ix = iy[r, c], ix[r, c]
    dy = iy - s + _parabola(sad, iy, ix, r, c, axis=0)
    dx = ix - s + _parabola(sad, iy, ix, r, c, axis=1)
    return float(np.mean(np.hypot(dx, dy)))


def _parabola(sad: Any, iy: Any, ix: Any, r: Any, c: Any, *, axis: int) -> Any:
    """The sub-pixel offset of each minimum along `axis`, from a parabola through it and its two
    neighbours (0 at the edge of the search)."""
    import numpy as np

    side = sad.shape[0]
    at = iy if axis == 0 else ix
    inside = (at > 0) & (at < side - 1)
    lo, hi = np.clip(at - 1, 0, side - 1), np.clip(at + 1, 0, side - 1)
    if axis == 0:
        left, mid, right = sad[lo, ix, r, c], sad[iy, ix, r, c], sad[hi, ix, r, c]
    else:
        left, mid, right = sad[iy, lo, r, c], sad[iy, ix, r, c], sad[iy, hi, r, c]
    bend = left - 2 * mid + right
    ok = inside & (bend > 1e-6)
    offset = np.where(ok, (left - right) / (2 * np.where(ok, bend, 1.0)), 0.0)
    return np.clip(offset, -0.5, 0.5)


def _cuts(diffs: NDArray[np.float64]) -> int:
    """Pairs whose difference is large (CUT_ABOVE) and a spike: CUT_SPIKE times both
    neighbours' (steady flicker or fast motion is not a cut)."""
    count = 0
    for i, d in enumerate(diffs):
        before = diffs[i - 1] if i > 0 else 0.0
        after = diffs[i + 1] if i + 1 < len(diffs) else 0.0
        if d > CUT_ABOVE and d > CUT_SPIKE * max(before, after, 1.0):
            count += 1
    return count


def _laplacian_variance(luma: Luma) -> float:
    """Variance of the 4-neighbour Laplacian of a grey picture (grey levels squared)."""
    lap = luma[1:-1, :-2] + luma[1:-1, 2:] + luma[:-2, 1:-1] + luma[2:, 1:-1] - 4 * luma[1:-1, 1:-1]
    return float(lap.var())
