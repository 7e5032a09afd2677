"""Optional measures with an open CLIP model (`pip install "kling-studio[clip]"`): how well the
frames match the prompt (`text_alignment`) and an aesthetic score (`aesthetic`).

Nothing here is imported by default and nothing is downloaded until `open_clip_encoder()` is
called: the model's weights (open_clip, ViT-B-32 trained on LAION-2B) and LAION's aesthetic
predictor head (a linear layer over the same embeddings) are fetched then, into the usual
caches. Any object with the `Encoder` methods can stand in (the tests use one).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Final, Protocol

from ..errors import ConfigurationError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from PIL.Image import Image

CLIP_FRAMES: Final = 8
CLIP_SIDE: Final = 224
DEFAULT_MODEL: Final = "ViT-B-32"
DEFAULT_WEIGHTS: Final = "laion2b_s34b_b79k"
# LAION's aesthetic predictor for ViT-B-32 embeddings: one linear layer (512 -> 1), scores ~1..10.
AESTHETIC_HEAD_URL: Final = (
    "https://github.com/LAION-AI/aesthetic-predictor/raw/main/sa_0_4_vit_b_32_linear.pth"
)
INSTALL_HINT: Final = 'install the extra: pip install "kling-studio[clip]"'


class Encoder(Protocol):
    """What the CLIP measures need of a model: unit-length embeddings, one row per input."""

    def encode_text(self, texts: list[str]) -> NDArray[np.float32]: ...

    def encode_images(self, images: list[Image]) -> NDArray[np.float32]: ...

    def aesthetic(self, embeddings: NDArray[np.float32]) -> NDArray[np.float32] | None: ...


def clip_frames(video: str | os.PathLike[str], count: int = CLIP_FRAMES) -> list[Image]:
    """`count` frames spread over the clip, as RGB pictures CLIP_SIDE px on their short side."""
    import av

    with av.open(os.fspath(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        total = stream.frames or 0
        every = max(1, total // count) if total else 1
        width, height = stream.codec_context.width, stream.codec_context.height
        scale = CLIP_SIDE / max(1, min(width, height))
        size = (max(2, round(width * scale)), max(2, round(height * scale)))
        picked: list[Image] = []
        for index, frame in enumerate(container.decode(stream)):
            if index % every == every // 2 and len(picked) < count:
                small = frame.reformat(width=size[0], height=size[1], format="rgb24")
                picked.append(small.to_image())  # type: ignore[no-untyped-call]
    if not picked:
        raise ValueError("the video has no frame that can be decoded")
    return picked


def measure_with_clip(
    video: str | os.PathLike[str], prompt: str, encoder: Encoder
) -> dict[str, float | None]:
    """`text_alignment`: the mean cosine similarity of the prompt's embedding and each sampled
    frame's; `aesthetic`: the mean of the encoder's aesthetic score over the frames (None when
    it has no aesthetic head)."""
    import numpy as np

    frames = clip_frames(video)
    images = np.asarray(encoder.encode_images(frames), dtype=np.float32)
    text = np.asarray(encoder.encode_text([prompt]), dtype=np.float32)[0]
    images = images / np.maximum(np.linalg.norm(images, axis=1, keepdims=True), 1e-12)
    text = text / max(float(np.linalg.norm(text)), 1e-12)
    scores = encoder.aesthetic(images)
    return {
        "text_alignment": float(np.mean(images @ text)),
        "aesthetic": float(np.mean(scores)) if scores is not None else None,
    }


class OpenClipEncoder:
    """An open_clip model (and LAION's aesthetic head) on the CPU, or CUDA when there is one."""

    def __init__(self, model: str = DEFAULT_MODEL, weights: str = DEFAULT_WEIGHTS) -> None:
        try:
            import open_clip  # type: ignore[import-not-found]
            import torch  # type: ignore[import-not-found]
        except ImportError:
            raise ConfigurationError(
                f"the CLIP measures need open_clip and torch: {INSTALL_HINT}"
            ) from None
        self._torch: Any = torch
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        made = open_clip.create_model_and_transforms(model, pretrained=weights, device=self.device)
        self._model: Any = made[0].eval()
        self._preprocess: Any = made[2]
        self._tokenizer: Any = open_clip.get_tokenizer(model)
        self._head: Any = None
        if model == DEFAULT_MODEL:
            state = torch.hub.load_state_dict_from_url(AESTHETIC_HEAD_URL, map_location="cpu")
            head = torch.nn.Linear(512, 1)
            head.load_state_dict(state)
            self._head = head.to(self.device).eval()

    def encode_text(self, texts: list[str]) -> NDArray[np.float32]:
        with self._torch.no_grad():
            tokens = self._tokenizer(texts).to(self.device)
            out = self._model.encode_text(tokens)
        return out.float().cpu().numpy()  # type: ignore[no-any-return]

    def encode_images(self, images: list[Image]) -> NDArray[np.float32]:
        with self._torch.no_grad():
            batch = self._torch.stack([self._preprocess(im) for im in images]).to(self.device)
            out = self._model.encode_image(batch)
        return out.float().cpu().numpy()  # type: ignore[no-any-return]

    def aesthetic(self, embeddings: NDArray[np.float32]) -> NDArray[np.float32] | None:
        if self._head is None:
            return None
        with self._torch.no_grad():
            tensor = self._torch.from_numpy(embeddings).to(self.device)
            return self._head(tensor).squeeze(-1).float().cpu().numpy()  # type: ignore[no-any-return]


def open_clip_encoder(model: str = DEFAULT_MODEL, weights: str = DEFAULT_WEIGHTS) -> Encoder:
    """The open CLIP model, fetched on this first call (ConfigurationError without the extra)."""
    return OpenClipEncoder(model, weights)
