"""Review a video's masks against ground truth: score every frame that has ground truth (J, F
and J&F per object) and list the frames worst first. No Qt: the GUI runs `review_video` in a
worker and `score_frame` for a single edited frame; scripts use both.

Typical use::

    truth = find_masks("/data/DAVIS", "bear", annotation.frame_names, annotation.size)
    review = review_video(annotation, truth)
    for row in review.rows[:5]:         # the five worst frames
        print(row.name, row.mean_jf)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from annotator.engine.mask_sets import MaskSet
from annotator.quality.metrics import frame_scores
from models.protocols import VOID

Progress = Callable[[int, int], None]


class LabelSource(Protocol):
    """What a review reads: frame names and one label map per frame (a VideoAnnotation, or a
    prediction read from files)."""

    @property
    def frame_names(self) -> list[str]: ...

    def label_map(self, index: int) -> np.ndarray: ...


@dataclass(frozen=True)
class FrameReview:
    """J and F of each object on one frame; `mean_jf` ranks the frames."""

    index: int
    name: str
    object_ids: tuple[int, ...]
    j: tuple[float, ...]
    f: tuple[float, ...]

    @property
    def jf(self) -> tuple[float, ...]:
        return tuple((j + f) / 2 for j, f in zip(self.j, self.f, strict=True))

    @property
    def mean_j(self) -> float:
        return float(np.mean(self.j)) if self.j else 1.0

    @property
    def mean_f(self) -> float:
        return float(np.mean(self.f)) if self.f else 1.0

    @property
    def mean_jf(self) -> float:
        return (self.mean_j + self.mean_f) / 2


@dataclass(frozen=True)
class Review:
    """Every scored frame of a video, worst J&F first, and the objects scored."""

    truth: MaskSet
    object_ids: tuple[int, ...]
    rows: list[FrameReview]

    @property
    def mean_jf(self) -> float:
        return float(np.mean([row.mean_jf for row in self.rows])) if self.rows else 1.0


def worst_first(rows: Sequence[FrameReview]) -> list[FrameReview]:
    """Rows by J&F, lowest first; ties in frame order."""
    return sorted(rows, key=lambda row: (row.mean_jf, row.index))


def object_ids_of(labels: np.ndarray) -> set[int]:
    """Object ids present in a label map (background and void left out)."""
    ids = set(np.flatnonzero(np.bincount(labels.ravel(), minlength=256)).tolist())
    return ids - {0, VOID}


def score_frame(
    index: int, name: str, gt: np.ndarray, pred: np.ndarray, object_ids: Sequence[int]
) -> FrameReview:
    """J and F of each object on one frame (ground-truth 255 is void); an object in neither
    mask scores 1 without being measured."""
    ids = tuple(object_ids)
    present = sorted((object_ids_of(gt) | object_ids_of(pred)) & set(ids))
    scores = {}
    if present:
        j, f = frame_scores(gt, pred, present)
        scores = {obj: (float(j[k]), float(f[k])) for k, obj in enumerate(present)}
    return _review_row(index, name, ids, scores)


def _review_row(
    index: int, name: str, ids: tuple[int, ...], scores: dict[int, tuple[float, float]]
) -> FrameReview:
    """A row for objects `ids`; an object without (J, F) in `scores` scores 1 on both."""
    return FrameReview(index, name, ids,
                       tuple(scores.get(obj, (1.0, 1.0))[0] for obj in ids),
                       tuple(scores.get(obj, (1.0, 1.0))[1] for obj in ids))


def review_video(
    annotation: LabelSource,
    truth: MaskSet,
    object_ids: Sequence[int] | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Review | None:
    """Score every frame that has ground truth, worst J&F first; one frame in memory at a time.

    Objects scored: `object_ids`, else every id found in the ground truth or the annotation. An
    object absent from both masks of a frame scores J = F = 1 there (empty union), so each frame
    is scored for the objects on it and the others are filled in. Returns None when
    `should_stop()` turns true.
    """
    position = {name: i for i, name in enumerate(annotation.frame_names)}
    names = [name for name in truth.names if name in position]
    scored: list[tuple[int, str, dict[int, tuple[float, float]]]] = []
    found: set[int] = set()
    for done, name in enumerate(names, 1):
        if should_stop is not None and should_stop():
            return None
        gt, pred = truth.labels(name), annotation.label_map(position[name])
        present = object_ids_of(gt) | object_ids_of(pred)
        found |= present
        if object_ids is not None:
            present &= set(object_ids)
        row = score_frame(position[name], name, gt, pred, sorted(present))
        scored.append((row.index, name, dict(zip(row.object_ids, zip(row.j, row.f,
                                                                      strict=True),
                                                 strict=True))))
        if progress is not None:
            progress(done, len(names))
    ids = tuple(sorted(found)) if object_ids is None else tuple(object_ids)
    rows = [_review_row(index, name, ids, scores) for index, name, scores in scored]
    return Review(truth, ids, worst_first(rows))
