"""The GUI side of review mode: the ground truth chosen for the open video, the score of every
frame against it, and keeping those scores current as the person fixes frames; and, through
its `checks`, the flags of every frame without ground truth.

A whole review runs in the review worker. The frames changed in one event-loop turn are
rescored together: a single frame (a stroke) on the GUI thread, a few milliseconds; several
frames, or any frame while a propagation streams in, in the worker. Each frame carries a
version, bumped on every change, so a score computed from an older label map never replaces a
newer one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, QThread, QTimer, pyqtSignal

from annotator.annotation import ChangeEvent, ChangeReason
from annotator.engine.mask_sets import MaskSet, find_masks
from annotator.engine.review import FrameReview, score_frame
from annotator.engine.review import Review as ReviewResult
from annotator.errors import AnnotatorError
from annotator.gui.opened_video import OpenedVideo
from annotator.gui.review_checks import CheckControl
from annotator.gui.review_worker import RescoreRequest, ReviewWorker
from annotator.gui.workers import TaskQueue, start_in_thread, stop_thread
from annotator.quality.review_report import rank_key

GT_CACHE_FRAMES = 4  # ground-truth label maps kept for the frames on screen


class ReviewControl(QObject):
    started = pyqtSignal()  # a whole review began
    progress = pyqtSignal(int, int)  # frames done, frames to do
    updated = pyqtSignal(object)  # frozenset of frame indices whose rows changed (all: empty)
    ordered = pyqtSignal()  # `order` was sorted again
    cleared = pyqtSignal()  # no ground truth any more
    seek = pyqtSignal(int)  # show this frame
    message = pyqtSignal(str)
    error = pyqtSignal(str)
    _review = pyqtSignal(int, object, object)
    _rescore = pyqtSignal(int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.video: OpenedVideo | None = None
        self.propagating = False  # frames stream in: rescore them in the worker
        self.worker = ReviewWorker()
        self.thread: QThread = start_in_thread(self.worker, "vos-review")
        self._review.connect(self.worker.review)
        self._rescore.connect(self.worker.rescore)
        self.worker.progress.connect(self._on_progress)
        self.worker.reviewed.connect(self._on_reviewed)
        self.worker.rescored.connect(self._on_rescored)
        self.worker.failed.connect(self._on_failed)
        self.source: Path | None = None  # the folder the person chose
        self.source_video: str | None = None  # the video it was chosen for
        self.truth: MaskSet | None = None
        self.object_ids: tuple[int, ...] = ()
        self.rows: dict[int, FrameReview] = {}
        self.order: list[int] = []  # frame indices, worst first as of the last sort
        self._rank: dict[int, int] = {}  # frame index -> its place in `order`
        self._walk: int | None = None  # place in `order` of the last frame reached through it
        self._job = 0
        self._running: int | None = None
        self._versions: dict[int, int] = {}
        self._pending: set[int] = set()
        self._rescore_versions: dict[int, int] = {}
        self._gt_cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._unsubscribe: Callable[[], None] | None = None
        self._flush_timer = QTimer(self)  # changes of one event-loop turn are rescored together
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self._flush)
        self.checks = CheckControl(self)
        self.checks.error.connect(self.error)
        self.tasks = TaskQueue("vos-review-tasks", self)  # predictions opened, reports
        self.checks.updated.connect(self._on_checked)

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
        return self._truth_name(index) is not None

    def _truth_name(self, index: int) -> str | None:
        """The name of frame `index` when the ground truth has it."""
        if self.truth is None or self.video is None:
            return None
        name = self.video.annotation.frame_names[index]
        return name if name in self.truth else None

    def ground_truth(self, index: int) -> np.ndarray | None:
        """The ground-truth label map of frame `index` (one PNG read, then cached)."""
        name = self._truth_name(index)
        if name is None or self.truth is None:
            return None
        if index in self._gt_cache:
            self._gt_cache.move_to_end(index)
            return self._gt_cache[index]
        labels = self.truth.labels(name)
        self._gt_cache[index] = labels
        while len(self._gt_cache) > GT_CACHE_FRAMES:
            self._gt_cache.popitem(last=False)
        return labels

    # ---- actions -------------------------------------------------------------------------
    def compare(self, path: str | Path) -> bool:
        """Compare the open video with the ground truth in `path`; False (and a message) when
        none is found there."""
        if self.video is None:
            self.message.emit("Open a video first, then compare it with its ground truth")
            return False
        try:
            truth = _find_truth(path, self.video)
        except (AnnotatorError, OSError) as exc:  # OSError: a folder it may not list
            self.error.emit(str(exc))
            return False
        self.source, self.source_video = Path(path), self.video.project.video
        self._start(truth)
        return True

    def rerun(self) -> None:
        """Score every frame again (for objects added since the last review)."""
        if self.truth is not None:
            self._start(self.truth)

    def sort(self) -> None:
        """Order the frames worst first again (fixed frames move down): those with ground
        truth by J&F, then the others, flagged ones first (see `rank_key`). A sort of every
        frame's key: it runs when a review or a check finishes, or when the person asks."""
        signals = self.checks.signals
        count = len(self.video.annotation) if self.video is not None else 0

        def key(index: int) -> tuple[int, float, int, float, int]:
            row, signal = self.rows.get(index), signals.get(index)
            return rank_key(row.mean_jf if row is not None else None,
                            bool(signal is not None and signal.flags),
                            signal.score if signal is not None else 1.0, index)

        self.order = sorted(range(count), key=key)
        self._rank = {index: place for place, index in enumerate(self.order)}
        self._walk = None
        self.ordered.emit()

    def _on_checked(self, indices: frozenset[int]) -> None:
        if not indices:  # every frame checked: the order takes the flags in
            self.sort()

    def clear(self) -> None:
        """Leave review mode: no ground truth, no scores."""
        self.source = self.source_video = None
        self._forget()
        self.cleared.emit()
        self.sort()  # the flags alone order the frames now

    def next_in_order(self, step: int) -> None:
        """Seek the next (or previous) frame in worst-first order. The walk goes on from the last
        frame reached through the review (these steps, the frames list, the plot), wherever the
        person has gone since; it starts at the worst frame, and again after every sort."""
        if not self.order:
            return
        at = 0 if self._walk is None else self._walk + step
        if 0 <= at < len(self.order):
            self._walk = at
            self.seek.emit(self.order[at])

    def reached(self, index: int) -> None:
        """Frame `index` was chosen in the review panel: the walk goes on from there."""
        self._walk = self._rank.get(index, self._walk)

    def shutdown(self) -> None:
        self._job += 1
        self.worker.latest_job = self._job
        stop_thread(self.thread)
        self.checks.shutdown()
        self.tasks.shutdown()

    # ---- internals -----------------------------------------------------------------------
    def _forget(self) -> None:
        self._job += 1
        self.worker.latest_job = self._job
        self._running = None
        self.truth = None
        self.object_ids = ()
        self.rows, self.order, self._rank, self._walk = {}, [], {}, None
        self._pending.clear()
        self._gt_cache.clear()

    def _start(self, truth: MaskSet) -> None:
        self._forget()
        self.truth = truth
        self._job += 1
        self.worker.latest_job = self._job
        self._running = self._job
        assert self.video is not None  # a review starts on an open video
        self._review.emit(self._job, self.video.annotation, truth)
        self.started.emit()
        self.message.emit(f"Comparing with the ground truth: {truth.describe()}")

    def set_video(self, video: OpenedVideo | None) -> None:
        """Another video is open (or none): review it against the same ground truth (a
        dataset root, or a folder named after the video; a folder of PNGs chosen for another
        video is not this one's), and check it."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._versions.clear()
        self.video = video
        self.checks.set_video(video)
        if video is None:
            return
        self._unsubscribe = video.annotation.subscribe(self._on_change)
        if self.source is None:
            if self.truth is not None:
                self._forget()
                self.cleared.emit()
            return
        try:  # the same dataset root may hold this video's ground truth too
            truth = _find_truth(self.source, video,
                                folder_itself=video.project.video == self.source_video)
        except (AnnotatorError, OSError):
            self.clear()
            return
        self._start(truth)

    def _on_change(self, event: ChangeEvent) -> None:
        if event.reason == ChangeReason.MARK:  # a mark moves no pixel
            return
        for index in event.frames:
            self._versions[index] = self._versions.get(index, 0) + 1
        if self.truth is None or not event.frames:
            return
        self._pending |= {i for i in event.frames if self.has_truth(i)}
        if self._pending:
            self._flush_timer.start()

    def _flush(self) -> None:
        """Rescore pending frames: one here and now, several (or any while a propagation
        streams in) in the worker."""
        video = self.video
        if not self._pending or self.truth is None or self._running is not None or not video:
            return
        annotation = video.annotation
        if len(self._pending) == 1 and not self.propagating:
            index = self._pending.pop()
            name = annotation.frame_names[index]
            try:
                truth = self.ground_truth(index)
                assert truth is not None  # pending frames have ground truth
                row = score_frame(index, name, truth, annotation.label_map(index),
                                  self.object_ids)
            except AnnotatorError as exc:
                self.error.emit(str(exc))
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
        self.updated.emit(frozenset())
        self.sort()
        self.message.emit(
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
        self.error.emit(message)


def _find_truth(path: str | Path, video: OpenedVideo, folder_itself: bool = True) -> MaskSet:
    """The ground truth of the open video in `path` (its own mask folder refused)."""
    annotation, project = video.annotation, video.project
    return find_masks(path, project.video, annotation.frame_names, annotation.size,
                      own_masks=project.dataset.mask_dir(project.video),
                      folder_itself=folder_itself)
