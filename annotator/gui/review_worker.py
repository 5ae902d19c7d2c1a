"""The review worker: scores frames against ground truth in its own thread, so a whole video
(or a propagated stretch of it) is rescored without the GUI thread waiting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PyQt6.QtCore import QObject, pyqtSignal, pyqtSlot

from annotator.engine.mask_sets import MaskSet
from annotator.engine.review import LabelSource, review_video, score_frame
from annotator.gui.workers import describe_failure


@dataclass(frozen=True)
class RescoreRequest:
    """Frames to score again for the objects of an earlier review."""

    annotation: LabelSource
    truth: MaskSet
    object_ids: tuple[int, ...]
    indices: Sequence[int]


class ReviewWorker(QObject):
    """Runs one job at a time; a job older than `latest_job` stops early and reports nothing."""

    progress = pyqtSignal(int, int, int)  # job, frames done, frames to do
    reviewed = pyqtSignal(int, object)  # job, Review
    rescored = pyqtSignal(int, object)  # job, list of FrameReview
    failed = pyqtSignal(int, str)

    def __init__(self) -> None:
        super().__init__()
        self.latest_job = 0  # set from the GUI thread; an int assignment is atomic

    def _stale(self, job: int) -> bool:
        return job != self.latest_job

    @pyqtSlot(int, object, object)
    def review(self, job: int, annotation: LabelSource, truth: MaskSet) -> None:
        try:
            result = review_video(annotation, truth,
                                  progress=lambda done, total: self.progress.emit(job, done,
                                                                                  total),
                                  should_stop=lambda: self._stale(job))
        except Exception as exc:  # a bad ground-truth file becomes a message
            self.failed.emit(job, describe_failure(exc))
            return
        if result is not None:
            self.reviewed.emit(job, result)

    @pyqtSlot(int, object)
    def rescore(self, job: int, request: RescoreRequest) -> None:
        rows = []
        try:
            for index in request.indices:
                if self._stale(job):
                    return
                name = request.annotation.frame_names[index]
                rows.append(score_frame(index, name, request.truth.labels(name),
                                        request.annotation.label_map(index),
                                        request.object_ids))
        except Exception as exc:
            self.failed.emit(job, describe_failure(exc))
            return
        self.rescored.emit(job, rows)
