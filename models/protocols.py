"""The engine vocabulary, defined once at the bottom: frames in, masks out, and the protocols
every click segmenter and propagator implements (arrays only; no paths, no Qt)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

VOID = 255
"""Label value of pixels nobody decides on (ignored by the metrics, kept by propagation)."""

ShouldStop = Callable[[], bool]
"""Asked between frames: True stops a long job early."""


class FrameSequence(Protocol):
    """Random access to RGB frames (H x W x 3 uint8); a FrameSource or a plain list."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> np.ndarray: ...


@dataclass(frozen=True)
class ClickPrediction:
    """Candidate masks for one prompt, best first when `scores` are comparable."""

    masks: np.ndarray  # (N, H, W) bool
    scores: np.ndarray  # (N,) float32, predicted IoU
    logits: np.ndarray  # (N, 256, 256) float32, low-res logits to feed back as `prior`


def prompt_points(points: np.ndarray, labels: np.ndarray, box: np.ndarray | None,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A prompt's points as float32 (N, 2) and labels as int64 (N,); refuses a prompt with
    neither a point nor a box."""
    points = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(points) == 0 and box is None:
        raise ValueError("a prompt needs at least one point or a box")
    return points, labels


@runtime_checkable
class ClickSegmenter(Protocol):
    """Interactive single-object segmentation of one image from clicks and a box.

    `predict`: `points` (N, 2) float x, y in pixels; `labels` (N,) 1 positive, 0 negative;
    `box` (4,) x0, y0, x1, y1; `prior` (1, 256, 256) logits of the previous prediction;
    `multimask` asks for several candidates (a first prompt) rather than one.
    """

    name: str

    def set_image(self, frame: np.ndarray) -> None:
        """Take the RGB frame that the next `predict` calls refer to."""

    def predict(self, points: np.ndarray, labels: np.ndarray, box: np.ndarray | None = None,
                prior: np.ndarray | None = None, multimask: bool = True) -> ClickPrediction:
        """Candidate masks for the prompt on the current image."""


class ImageEmbedding(Protocol):
    """What a segmenter computes once per image; its size bounds the embedding cache."""

    @property
    def nbytes(self) -> int: ...


@runtime_checkable
class EmbeddingSegmenter(ClickSegmenter, Protocol):
    """A click segmenter whose per-image work is an embedding that can be made ahead (in
    another thread) and cached: `set_embedding(embed(frame))` is `set_image(frame)`."""

    def embed(self, frame: np.ndarray) -> ImageEmbedding:
        """The embedding of an RGB frame."""

    def set_embedding(self, embedding: ImageEmbedding) -> None:
        """Take an embedding made by `embed` as the current image."""


@dataclass(frozen=True)
class PropagatedFrame:
    """One frame of a propagation: its label map and how far the engine trusts each object."""

    index: int  # frame index
    labels: np.ndarray  # H x W uint8 label map
    confidence: Mapping[int, float]  # object id -> 0..1 (1 sure, 0 lost) on this frame


@runtime_checkable
class Propagator(Protocol):
    """Carries label maps from keyframes to other frames, one frame at a time."""

    name: str

    def propagate(self, frames: FrameSequence, keyframes: Mapping[int, np.ndarray],
                  targets: Sequence[int], should_stop: ShouldStop | None = None,
                  ) -> Iterator[PropagatedFrame]:
        """Yield a `PropagatedFrame` for each index of `targets`, in that order.

        `keyframes` maps frame index to an H x W uint8 label map made by a person (0 background,
        1..254 object ids, 255 void); they are the permanent memory of the pass. `targets` is a
        run of consecutive indices moving away from the keyframe it starts next to (forward:
        k+1, k+2, ...; backward: k-1, k-2, ...). Objects missing from a keyframe are background
        there. The generator stops early, between frames, when `should_stop()` is true.
        """
