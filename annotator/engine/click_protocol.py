"""The standard click protocol of interactive segmentation, simulated against a known mask.

Each next click goes to the point of the error farthest from the error's boundary (the largest
value of the distance transform over false negatives and false positives); it is positive when
that point is a false negative. NoC@T is the number of clicks needed to reach IoU >= T, counted
as the click limit when it is never reached.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from annotator.engine.click_session import ClickSession
from annotator.quality.metrics import jaccard
from models.protocols import ClickPrediction

MAX_CLICKS = 20


@dataclass(frozen=True)
class ProtocolRun:
    """IoU after each click, the time each click took to give its mask (seconds), and every
    candidate offered on the way as (its score, its true IoU)."""

    ious: list[float]
    seconds: list[float]
    scored: list[tuple[float, float]] = field(default_factory=list)

    def clicks_to_reach(self, threshold: float, max_clicks: int = MAX_CLICKS) -> int:
        for count, iou in enumerate(self.ious, start=1):
            if iou >= threshold:
                return count
        return max_clicks

    def capped_mean(self, ceiling: float = 0.90, max_clicks: int = MAX_CLICKS) -> float:
        """Mean over the `max_clicks` clicks of the IoU capped at `ceiling` (the area under the
        capped IoU curve): steadier than NoC on few images, where one click more or less moves
        a whole image from the limit to a low count. A run that stopped early keeps its last
        IoU for the clicks it did not make."""
        curve = [min(iou, ceiling) for iou in self.ious[:max_clicks]]
        curve += [curve[-1]] * (max_clicks - len(curve))
        return float(np.mean(curve))


def iou(mask: np.ndarray, truth: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Intersection over union of two bool masks, ignoring pixels where `valid` is False."""
    return jaccard(truth, mask, None if valid is None else ~valid.astype(bool))


def next_click(
    mask: np.ndarray, truth: np.ndarray, valid: np.ndarray | None = None
) -> tuple[float, float, bool] | None:
    """(x, y, positive) of the next simulated click, or None when there is no error left."""
    missed = truth & ~mask
    extra = mask & ~truth
    if valid is not None:
        missed &= valid
        extra &= valid
    best: tuple[float, float, float, bool] | None = None
    for error, positive in ((missed, True), (extra, False)):
        if not error.any():
            continue
        # pad so that the frame's edge counts as the error region's boundary
        padded = np.pad(error.astype(np.uint8), 1)
        dist = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, 1:-1]
        y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
        if best is None or dist[y, x] > best[0]:
            best = (float(dist[y, x]), float(x), float(y), positive)
    return None if best is None else best[1:]


def run_protocol(
    session: ClickSession,
    frame: np.ndarray,
    truth: np.ndarray,
    valid: np.ndarray | None = None,
    max_clicks: int = MAX_CLICKS,
    stop_at: float | None = None,
) -> ProtocolRun:
    """Click up to `max_clicks` times on `frame` (or until IoU >= `stop_at`)."""
    session.set_frame(0, frame)
    mask = np.zeros(truth.shape, dtype=bool)
    ious: list[float] = []
    seconds: list[float] = []
    scored: list[tuple[float, float]] = []
    for _ in range(max_clicks):
        click = next_click(mask, truth, valid)
        if click is None:
            ious.append(1.0)
            break
        start = time.perf_counter()
        prediction = session.add_click(*click)
        seconds.append(time.perf_counter() - start)
        scored += _scored(prediction, truth, valid)
        mask = session.mask if session.mask is not None else mask
        ious.append(iou(mask, truth, valid))
        if stop_at is not None and ious[-1] >= stop_at:
            break
    return ProtocolRun(ious, seconds, scored)


def bounding_box(truth: np.ndarray) -> tuple[float, float, float, float]:
    """The tight box (x0, y0, x1, y1) around a non-empty mask."""
    ys = np.flatnonzero(truth.any(axis=1))
    xs = np.flatnonzero(truth.any(axis=0))
    if ys.size == 0:
        raise ValueError("an empty mask has no box")
    return float(xs[0]), float(ys[0]), float(xs[-1]), float(ys[-1])


def run_box_and_click(
    session: ClickSession, frame: np.ndarray, truth: np.ndarray, valid: np.ndarray | None = None
) -> ProtocolRun:
    """A box around the object, then one click at its centre (its point farthest from the
    boundary): IoU after the box and after the click."""
    session.set_frame(0, frame)
    start = time.perf_counter()
    prediction = session.set_box(*bounding_box(truth))
    seconds = [time.perf_counter() - start]
    scored = _scored(prediction, truth, valid)
    ious = [iou(_mask_of(session, truth), truth, valid)]
    click = next_click(np.zeros(truth.shape, bool), truth, valid)
    if click is not None:
        start = time.perf_counter()
        prediction = session.add_click(*click)
        seconds.append(time.perf_counter() - start)
        scored += _scored(prediction, truth, valid)
        ious.append(iou(_mask_of(session, truth), truth, valid))
    return ProtocolRun(ious, seconds, scored)


def _mask_of(session: ClickSession, truth: np.ndarray) -> np.ndarray:
    """The session's mask, or an empty one where it has none."""
    return session.mask if session.mask is not None else np.zeros(truth.shape, bool)


def _scored(
    prediction: ClickPrediction, truth: np.ndarray, valid: np.ndarray | None
) -> list[tuple[float, float]]:
    return [(float(score), iou(mask, truth, valid))
            for mask, score in zip(prediction.masks, prediction.scores, strict=True)]


def mean_capped(runs: Sequence[ProtocolRun], ceiling: float = 0.90,
                max_clicks: int = MAX_CLICKS) -> float:
    return float(np.mean([run.capped_mean(ceiling, max_clicks) for run in runs]))


def mean_noc(runs: Sequence[ProtocolRun], threshold: float, max_clicks: int = MAX_CLICKS) -> float:
    return float(np.mean([run.clicks_to_reach(threshold, max_clicks) for run in runs]))
