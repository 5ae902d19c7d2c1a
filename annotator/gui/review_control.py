"""The GUI side of review mode: the ground truth chosen for the open video, the score of every
frame against it, and keeping those scores current as the person fixes frames.

A whole review runs in the review worker. The frames changed in one event-loop turn are
rescored together: a single frame (a stroke) on the GUI thread, a few milliseconds; several
frames, or any frame while a propagation streams in, in the worker. Each frame carries a
version, bumped on every change, so a score computed from an older label map never replaces a
newer one.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PyQt6.QtCore import QObject, QThread, QTimer, pyqtSignal

from annotator.annotation import ChangeEvent
from annotator.engine.review import FrameReview, GroundTruth, find_ground_truth, score_frame
from annotator.engine.review import Review as ReviewResult
from annotator.errors import AnnotatorError
from annotator.gui.review_worker import RescoreRequest, ReviewWorker
from annotator.gui.workers import start_in_thread, stop_thread

if TYPE_CHECKING:
    from annotator.gui.controller import Controller

GT_CACHE_FRAMES = 4  # ground-truth label maps kept for the frames on screen


class ReviewControl(QObject):
    started = pyqtSignal()  # a whole review began
    progress = pyqtSignal(int, int)  # frames done, frames to do
    updated = pyqtSignal(object)  # frozenset of frame indices whose rows changed (all: empty)
    cleared = pyqtSignal()  # no ground truth any more
    _review = pyqtSignal(int, object, object)
    _rescore = pyqtSignal(int, object)

    def __init__(self, controller: Controller) -> None:
        super().__init__(controller)
        self.controller = controller
        self.worker = ReviewWorker()
        self.thread: QThread = start_in_thread(self.worker, "vos-review")
        self._review.connect(self.worker.review)
        self._rescore.connect(self.worker.rescore)
        self.worker.progress.connect(self._on_progress)
        self.worker.reviewed.connect(self._on_reviewed)
        self.worker.rescored.connect(self._on_rescored)
        self.worker.failed.connect(self._on_failed)
        self.source: Path | None = None  # the folder the person chose
        self.truth: GroundTruth | None = None
        self.object_ids: tuple[int, ...] = ()
        self.rows: dict[int, FrameReview] = {}
        self.order: list[int] = []  # frame indices, worst first as of the last sort
        self._job = 0
        self._running: int | None = None
        self._versions: dict[int, int] = {}
        self._pending: set[int] = set()
        self._rescore_versions: dict[int, int] = {}
        self._gt_cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._unsubscribe = None
        self._flush_timer = QTimer(self)  # changes of one event-loop turn are rescored together
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self._flush)
        controller.video_opened.connect(self._on_video_opened)

    # ---- state ---------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.truth is not None

    @property
    def busy(self) -> bool:
        return self._running is not None

    @property
    def mean_jf(self) -> float | None:
        if not self.rows:
            return None
        return float(np.mean([row.mean_jf for row in self.rows.values()]))

    def row(self, index: int) -> FrameReview | None:
        return self.rows.get(index)

    def has_truth(self, index: int) -> bool:
        names = self.controller.annotation.frame_names if self.controller.annotation else None
        return self.truth is not None and names is not None and names[index] in self.truth.paths

    def ground_truth(self, index: int) -> np.ndarray | None:
        """The ground-truth label map of frame `index` (one PNG read, then cached)."""
        if not self.has_truth(index):
            return None
        if index in self._gt_cache:
            self._gt_cache.move_to_end(index)
            return self._gt_cache[index]
        labels = self.truth.labels(self.controller.annotation.frame_names[index])
        self._gt_cache[index] = labels
        while len(self._gt_cache) > GT_CACHE_FRAMES:
            self._gt_cache.popitem(last=False)
        return labels

    # ---- actions -------------------------------------------------------------------------
    def compare(self, path: str | Path) -> bool:
        """Compare the open video with the ground truth in `path`; False (and a message) when
        none is found there."""
        c = self.controller
        if c.annotation is None or c.video is None:
            c.message.emit("Open a video first, then compare it with its ground truth")
            return False
        try:
            truth = find_ground_truth(path, c.video, c.annotation.frame_names, c.annotation.size,
                                      own_masks=c.dataset.mask_dir(c.video))
        except (AnnotatorError, OSError) as exc:  # OSError: a folder it may not list
            c.error.emit(str(exc))
            return False
        self.source = Path(path)
        self._start(truth)
        return True

    def rerun(self) -> None:
        """Score every frame again (for objects added since the last review)."""
        if self.truth is not None:
            self._start(self.truth)

    def sort(self) -> None:
        """Order the rows worst first again (fixed frames move down)."""
        self.order = [row.index for row in sorted(self.rows.values(),
                                                  key=lambda r: (r.mean_jf, r.index))]
        self.updated.emit(frozenset())

    def clear(self) -> None:
        """Leave review mode: no ground truth, no scores."""
        self.source = None
        self._forget()
        self.cleared.emit()

    def next_in_order(self, step: int) -> None:
        """Go to the next (or previous) frame in worst-first order from the current one."""
        if not self.order:
            return
        c = self.controller
        if c.index in self.order:
            at = self.order.index(c.index) + step
        else:
            at = 0 if step > 0 else len(self.order) - 1
        if 0 <= at < len(self.order):
            c.set_index(self.order[at])

    def shutdown(self) -> None:
        self._job += 1
        self.worker.latest_job = self._job
        stop_thread(self.thread)

    # ---- internals -----------------------------------------------------------------------
    def _forget(self) -> None:
        self._job += 1
        self.worker.latest_job = self._job
        self._running = None
        self.truth = None
        self.object_ids = ()
        self.rows, self.order = {}, []
        self._pending.clear()
        self._gt_cache.clear()

    def _start(self, truth: GroundTruth) -> None:
        self._forget()
        self.truth = truth
        self._job += 1
        self.worker.latest_job = self._job
        self._running = self._job
        self._review.emit(self._job, self.controller.annotation, truth)
        self.started.emit()
        self.controller.message.emit(
            f"Comparing with the ground truth in {truth.folder} ({len(truth.paths)} frames)")

    def _on_video_opened(self, _title: str) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._versions.clear()
        annotation = self.controller.annotation
        if annotation is None:
            return
        self._unsubscribe = annotation.subscribe(self._on_change)
        if self.source is None:
            if self.truth is not None:
                self._forget()
                self.cleared.emit()
            return
        c = self.controller
        try:  # the same dataset root may hold this video's ground truth too
            truth = find_ground_truth(self.source, c.video, annotation.frame_names,
                                      annotation.size, own_masks=c.dataset.mask_dir(c.video))
        except (AnnotatorError, OSError):
            self.clear()
            return
        self._start(truth)

    def _on_change(self, event: ChangeEvent) -> None:
        for index in event.frames:
            self._versions[index] = self._versions.get(index, 0) + 1
        if self.truth is None or not event.frames:
            return
        names = self.controller.annotation.frame_names
        self._pending |= {i for i in event.frames if names[i] in self.truth.paths}
        if self._pending:
            self._flush_timer.start()

    def _flush(self) -> None:
        """Rescore pending frames: one here and now, several (or any while a propagation
        streams in) in the worker."""
        if not self._pending or self.truth is None or self._running is not None:
            return
        annotation = self.controller.annotation
        if len(self._pending) == 1 and not self.controller.propagation.running:
            index = self._pending.pop()
            name = annotation.frame_names[index]
            try:
                row = score_frame(index, name, self.ground_truth(index),
                                  annotation.label_map(index), self.object_ids)
            except AnnotatorError as exc:
                self.controller.error.emit(str(exc))
                return
            self.rows[index] = row
            self.updated.emit(frozenset({index}))
            return
        indices = sorted(self._pending)
        self._pending.clear()
        self._job += 1
        self.worker.latest_job = self._job
        self._running = self._job
        self._rescore_versions = {i: self._versions.get(i, 0) for i in indices}
        self._rescore.emit(self._job, RescoreRequest(annotation, self.truth, self.object_ids,
                                                     indices))

    def _current(self, index: int, versions: dict[int, int]) -> bool:
        return self._versions.get(index, 0) == versions.get(index, 0)

    def _on_progress(self, job: int, done: int, total: int) -> None:
        if job == self._job:
            self.progress.emit(done, total)

    def _on_reviewed(self, job: int, review: ReviewResult) -> None:
        if job != self._job:
            return
        self._running = None
        self.object_ids = review.object_ids
        # frames changed while the review ran are pending: they are rescored now
        self.rows = {row.index: row for row in review.rows if row.index not in self._pending}
        self.order = [row.index for row in review.rows]
        self.updated.emit(frozenset())
        self.controller.message.emit(
            f"Reviewed {len(review.rows)} frames against the ground truth: "
            f"mean J&F {review.mean_jf:.3f}")
        self._flush()

    def _on_rescored(self, job: int, rows: list[FrameReview]) -> None:
        if job != self._job:
            return
        self._running = None
        versions = self._rescore_versions
        fresh = [row for row in rows if self._current(row.index, versions)]
        for row in fresh:
            self.rows[row.index] = row
        self.updated.emit(frozenset(row.index for row in fresh))
        self._flush()

    def _on_failed(self, job: int, message: str) -> None:
        if job != self._job:
            return
        self._running = None
        if not self.rows:  # the review itself failed: a bad ground-truth file
            self._forget()
            self.cleared.emit()
        self.controller.error.emit(message)
