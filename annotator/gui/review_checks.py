"""The GUI side of the checks without ground truth: every frame of the open video checked in a
worker (flags, confidence, IoU with the frame before), and the frames a change touches checked
again there, a short while after the changes stop coming (a propagation streams many).

A frame's flags depend on the two frames before it, so a change to frame i rechecks i, i+1 and
i+2. Each frame carries a version, bumped on every change; a result computed from an older
label map never replaces a newer one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import QObject, QThread, QTimer, pyqtSignal, pyqtSlot

from annotator.annotation import ChangeEvent, ChangeReason, VideoAnnotation
from annotator.engine.qa import check_frames
from annotator.gui.opened_video import OpenedVideo
from annotator.gui.workers import describe_failure, start_in_thread, stop_thread
from annotator.quality.flags import FrameSignals
from annotator.video.opening import open_frames
from annotator.video.source import FrameSource

RECHECK_DELAY_MS = 250  # changes that come within this time are rechecked together
FRAME_CACHE_BYTES = 16 * 2**20  # the worker's own frames: it reads each once, in order
AFFECTS = 3  # a change to frame i touches the flags of i, i+1 and i+2


@dataclass(frozen=True)
class CheckRequest:
    """Frames to check of an annotation, whose pictures are at `frames`."""

    annotation: VideoAnnotation
    frames: Path
    indices: Sequence[int]
    whole: bool  # every frame (a progress bar is shown)


class CheckWorker(QObject):
    """Runs one request at a time; one older than `latest_job` stops early, says nothing."""

    progress = pyqtSignal(int, int, int)  # job, frames done, frames to do
    checked = pyqtSignal(int, object)  # job, list of FrameSignals
    failed = pyqtSignal(int, str)

    def __init__(self) -> None:
        super().__init__()
        self.latest_job = 0  # set from the GUI thread; an int assignment is atomic
        self._frames: FrameSource | None = None

    def _source(self, path: Path) -> FrameSource:
        if self._frames is None or self._frames.path != path:
            self.close()
            self._frames = open_frames(path, cache_bytes=FRAME_CACHE_BYTES)
        return self._frames

    @pyqtSlot()
    def close(self) -> None:
        if self._frames is not None:
            self._frames.close()
            self._frames = None

    @pyqtSlot(int, object)
    def check(self, job: int, request: CheckRequest) -> None:
        annotation = request.annotation
        total = len(request.indices)
        try:
            result = check_frames(
                annotation, self._source(request.frames), request.indices,
                confidence=annotation.confidence,
                progress=(lambda done, _: self.progress.emit(job, done, total)
                          if request.whole and done % 5 == 0 else None),
                should_stop=lambda: job != self.latest_job)
        except Exception as exc:
            self.failed.emit(job, describe_failure(exc))
            return
        if result is not None:
            self.checked.emit(job, result)


class CheckControl(QObject):
    """The flags and signals of the open video's frames, kept current."""

    started = pyqtSignal()  # every frame is being checked
    progress = pyqtSignal(int, int)
    updated = pyqtSignal(object)  # frozenset of frame indices whose signals changed (all: empty)
    error = pyqtSignal(str)
    _check = pyqtSignal(int, object)
    _close = pyqtSignal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = CheckWorker()
        self.thread: QThread = start_in_thread(self.worker, "vos-checks")
        self._check.connect(self.worker.check)
        self._close.connect(self.worker.close)
        self.worker.progress.connect(self._on_progress)
        self.worker.checked.connect(self._on_checked)
        self.worker.failed.connect(self._on_failed)
        self.video: OpenedVideo | None = None
        self.signals: dict[int, FrameSignals] = {}
        self._job = 0
        self._running: int | None = None
        self._whole = False
        self._versions: dict[int, int] = {}
        self._sent_versions: dict[int, int] = {}
        self._pending: set[int] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RECHECK_DELAY_MS)
        self._timer.timeout.connect(self._flush)

    @property
    def busy(self) -> bool:
        return self._running is not None or bool(self._pending)

    @property
    def complete(self) -> bool:
        """Every frame has its signals and none waits for a recheck."""
        return self.video is not None and not self.busy and \
            len(self.signals) == len(self.video.annotation)

    def set_video(self, video: OpenedVideo | None) -> None:
        """Check the video now open (none: forget the last one's signals)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._bump()
        self.video, self.signals = video, {}
        self._versions.clear()
        self._pending.clear()
        self._timer.stop()
        if video is None:
            self._close.emit()
            self.updated.emit(frozenset())
            return
        self._unsubscribe = video.annotation.subscribe(self._on_change)
        self._send(range(len(video.annotation)), whole=True)
        self.started.emit()

    def _bump(self) -> int:
        self._job += 1
        self.worker.latest_job = self._job
        return self._job

    def _send(self, indices: Sequence[int], whole: bool) -> None:
        assert self.video is not None
        self._running, self._whole = self._bump(), whole
        self._sent_versions = {i: self._versions.get(i, 0) for i in indices}
        self._check.emit(self._running, CheckRequest(self.video.annotation,
                                                     self.video.project.frames.path,
                                                     list(indices), whole))

    def _on_change(self, event: ChangeEvent) -> None:
        if self.video is None or event.reason == ChangeReason.MARK:  # marks move no pixel
            return
        count = len(self.video.annotation)
        frames = event.frames or (range(count) if event.reason == ChangeReason.LOAD else ())
        for index in frames:
            for affected in range(index, min(index + AFFECTS, count)):
                self._versions[affected] = self._versions.get(affected, 0) + 1
                self._pending.add(affected)
        self._timer.start()

    def _flush(self) -> None:
        if not self._pending or self._running is not None or self.video is None:
            return
        indices = sorted(self._pending)
        self._pending.clear()
        self._send(indices, whole=False)

    def _on_progress(self, job: int, done: int, total: int) -> None:
        if job == self._job:
            self.progress.emit(done, total)

    def _on_checked(self, job: int, results: list[FrameSignals]) -> None:
        if job != self._job:
            return
        self._running = None
        fresh = [s for s in results
                 if self._versions.get(s.index, 0) == self._sent_versions.get(s.index, 0)]
        for signals in fresh:
            self.signals[signals.index] = signals
        if self._whole:
            self.progress.emit(1, 1)
        self.updated.emit(frozenset() if self._whole else frozenset(s.index for s in fresh))
        stale = {s.index for s in results} - {s.index for s in fresh}
        self._pending |= stale
        self._flush()

    def _on_failed(self, job: int, message: str) -> None:
        if job == self._job:
            self._running = None
            self.error.emit(message)

    def shutdown(self) -> None:
        self._bump()
        self._timer.stop()
        self._close.emit()
        stop_thread(self.thread)
