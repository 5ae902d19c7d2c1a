"""The per-frame values behind the review plot, kept per object as arrays over the video and
updated frame by frame as scores and checks come in (a full rebuild only when a whole review or
check ends): J&F with ground truth, the engine's confidence, the IoU with the frame before, and
the flagged frames."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from annotator.engine.review import FrameReview
from annotator.quality.flags import FrameSignals


class ReviewSeries:
    def __init__(self) -> None:
        self.frame_count = 0
        self.jf: dict[int, np.ndarray] = {}
        self.confidence: dict[int, np.ndarray] = {}
        self.iou: dict[int, np.ndarray] = {}
        self.flagged: dict[int, set[int]] = {}  # object id -> flagged frames
        self.flags: dict[int, int] = {}  # frame -> its number of flags (flagged frames only)
        self.flag_total = 0  # kept as frames come in, so a count costs nothing per update

    def reset(self, frame_count: int) -> None:
        self.frame_count = frame_count
        self.jf, self.confidence, self.iou, self.flagged = {}, {}, {}, {}
        self.flags, self.flag_total = {}, 0

    def _array(self, arrays: dict[int, np.ndarray], object_id: int) -> np.ndarray:
        if object_id not in arrays:
            arrays[object_id] = np.full(self.frame_count, np.nan)
        return arrays[object_id]

    def clear_scores(self) -> None:
        self.jf = {}

    def set_scores(self, rows: Iterable[FrameReview]) -> None:
        for row in rows:
            for object_id, j, f in zip(row.object_ids, row.j, row.f, strict=True):
                self._array(self.jf, object_id)[row.index] = (j + f) / 2

    def set_signals(self, signals: Iterable[FrameSignals]) -> None:
        for frame in signals:
            index = frame.index
            for values in (*self.confidence.values(), *self.iou.values()):
                values[index] = np.nan
            for flagged in self.flagged.values():
                flagged.discard(index)
            for object_id, signal in frame.objects.items():
                if signal.confidence is not None:
                    self._array(self.confidence, object_id)[index] = signal.confidence
                if signal.iou_previous is not None:
                    self._array(self.iou, object_id)[index] = signal.iou_previous
            for flag in frame.flags:
                self.flagged.setdefault(flag.object_id, set()).add(index)
            self.flag_total += len(frame.flags) - self.flags.pop(index, 0)
            if frame.flags:
                self.flags[index] = len(frame.flags)

    def rebuild(self, frame_count: int, rows: Mapping[int, FrameReview],
                signals: Mapping[int, FrameSignals]) -> None:
        self.reset(frame_count)
        self.set_scores(rows.values())
        self.set_signals(signals.values())

    def flagged_frames(self, object_id: int | None) -> list[int]:
        if object_id is not None:
            return sorted(self.flagged.get(object_id, ()))
        return sorted(self.flags)
