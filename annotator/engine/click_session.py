"""One person's clicks on one frame, turned into masks by a click segmenter.

The first prompt asks for three candidates; every later prompt asks for one mask and feeds back
the low-res logits of the candidate in use, so each click refines the previous answer. Image
embeddings (for segmenters that have them) are computed once per frame and kept in a cache
bounded in bytes; `prefetch` fills it ahead from another thread.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from annotator.engine.embedding_cache import EmbeddingCache
from models.protocols import ClickPrediction, ClickSegmenter, EmbeddingSegmenter, ImageEmbedding

DEFAULT_CACHE_BYTES = 256 * 1024 * 1024
Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class Click:
    x: float
    y: float
    positive: bool


@dataclass(frozen=True)
class _State:
    """Everything one prompt step changes, so that undo restores it exactly."""

    clicks: tuple[Click, ...]
    box: Box | None
    prediction: ClickPrediction | None
    chosen: int


_EMPTY = _State((), None, None, 0)


class ClickSession:
    """Prompts and predictions for the current frame; safe to call from several threads."""

    def __init__(self, segmenter: ClickSegmenter, cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.segmenter = segmenter
        self.cache = EmbeddingCache(cache_bytes)
        self._embedder = segmenter if isinstance(segmenter, EmbeddingSegmenter) else None
        self._lock = threading.RLock()
        self._in_flight: dict[int, threading.Event] = {}
        self._flight_lock = threading.Lock()
        self._frame_index: int | None = None
        self._frame_shape: tuple[int, int] | None = None
        self._history: list[_State] = []
        self._state = _EMPTY

    # frames and embeddings

    @property
    def frame_index(self) -> int | None:
        return self._frame_index

    def set_frame(self, index: int, frame: np.ndarray) -> None:
        """Make `frame` the one prompts refer to; clears the prompts of the previous frame."""
        with self._lock:
            if self._embedder is not None:
                self._embedder.set_embedding(self._embedding(self._embedder, index, frame))
            else:
                self.segmenter.set_image(frame)
            self._frame_index = index
            self._frame_shape = frame.shape[:2]
            self._history.clear()
            self._state = _EMPTY

    def prefetch(self, index: int, frame: np.ndarray) -> bool:
        """Compute and cache the embedding of `frame` unless it is cached already.

        Returns True when an embedding was computed. Segmenters without embeddings: False.
        Meant for a worker thread when the person is idle.
        """
        if self._embedder is None or index in self.cache:
            return False
        return self._compute(self._embedder, index, frame) is not None

    def _embedding(self, embedder: EmbeddingSegmenter, index: int,
                   frame: np.ndarray) -> ImageEmbedding:
        cached = self.cache.get(index)
        if cached is not None:
            return cached
        computed = self._compute(embedder, index, frame)
        if computed is not None:
            return computed
        # another thread computed it meanwhile; the cache may have refused it (over budget)
        cached = self.cache.get(index)
        return cached if cached is not None else embedder.embed(frame)

    def _compute(self, embedder: EmbeddingSegmenter, index: int,
                 frame: np.ndarray) -> ImageEmbedding | None:
        """Embed `frame` and cache it; None when another thread was already doing it."""
        with self._flight_lock:
            pending = self._in_flight.get(index)
            if pending is not None:
                owner = False
            else:
                owner = True
                pending = self._in_flight[index] = threading.Event()
        if not owner:
            pending.wait()
            return None
        try:
            embedding = embedder.embed(frame)
            self.cache.put(index, embedding)
            return embedding
        finally:
            with self._flight_lock:
                del self._in_flight[index]
            pending.set()

    # prompts

    @property
    def clicks(self) -> list[Click]:
        return list(self._state.clicks)

    @property
    def box(self) -> Box | None:
        return self._state.box

    @property
    def current(self) -> ClickPrediction | None:
        """The latest prediction: three candidates after the first prompt, then one."""
        return self._state.prediction

    @property
    def chosen(self) -> int:
        return self._state.chosen

    @property
    def mask(self) -> np.ndarray | None:
        """The candidate in use as an H x W bool mask, or None before any prompt."""
        state = self._state
        return None if state.prediction is None else state.prediction.masks[state.chosen]

    def add_click(self, x: float, y: float, positive: bool) -> ClickPrediction:
        with self._lock:
            self._check_inside(x, y)
            click = Click(float(x), float(y), bool(positive))
            return self._prompt((*self._state.clicks, click), self._state.box)

    def set_box(self, x0: float, y0: float, x1: float, y1: float) -> ClickPrediction:
        """Prompt with a box (corners in any order); the part outside the frame is cut off,
        and a box with no part inside it is refused (ValueError)."""
        with self._lock:
            if self._frame_shape is None:
                raise RuntimeError("set_frame must come before prompts")
            corners = [float(v) for v in (x0, y0, x1, y1)]
            if not all(math.isfinite(v) for v in corners):
                raise ValueError(f"box corners must be numbers, got {corners}")
            h, w = self._frame_shape
            left, right = (min(max(v, 0.0), w - 1.0) for v in sorted(corners[0::2]))
            top, bottom = (min(max(v, 0.0), h - 1.0) for v in sorted(corners[1::2]))
            if right - left < 1 or bottom - top < 1:
                raise ValueError(f"the box is empty inside the {w}x{h} frame")
            return self._prompt(self._state.clicks, (left, top, right, bottom))

    def choose(self, candidate_index: int) -> np.ndarray:
        """Use another candidate of the current prediction; later clicks refine that one."""
        with self._lock:
            state = self._state
            if state.prediction is None:
                raise ValueError("no prediction to choose from")
            if not 0 <= candidate_index < len(state.prediction.masks):
                raise IndexError(f"candidate {candidate_index} does not exist")
            self._state = _State(state.clicks, state.box, state.prediction, candidate_index)
            chosen: np.ndarray = state.prediction.masks[candidate_index]
            return chosen

    def undo_click(self) -> ClickPrediction | None:
        """Take back the last click or box; returns the prediction before it (None if none)."""
        with self._lock:
            if self._history:
                self._state = self._history.pop()
            return self._state.prediction

    def reset(self) -> None:
        """Forget every prompt on this frame (the embedding stays cached)."""
        with self._lock:
            self._history.clear()
            self._state = _EMPTY

    def _prompt(self, clicks: tuple[Click, ...], box: Box | None) -> ClickPrediction:
        if self._frame_index is None:
            raise RuntimeError("set_frame must come before prompts")
        previous = self._state
        refine = previous.prediction is not None
        prior = None
        if previous.prediction is not None:
            prior = previous.prediction.logits[previous.chosen][None]
        points = np.array([[c.x, c.y] for c in clicks], dtype=np.float32).reshape(-1, 2)
        labels = np.array([1 if c.positive else 0 for c in clicks], dtype=np.int64)
        prediction = self.segmenter.predict(
            points, labels, box=None if box is None else np.array(box, dtype=np.float32),
            prior=prior, multimask=not refine,
        )
        self._history.append(previous)
        self._state = _State(clicks, box, prediction, 0)
        return prediction

    def _check_inside(self, x: float, y: float) -> None:
        if self._frame_shape is None:
            raise RuntimeError("set_frame must come before prompts")
        h, w = self._frame_shape
        if not (0 <= x < w and 0 <= y < h):
            raise ValueError(f"click ({x:g}, {y:g}) is outside the {w}x{h} frame")
