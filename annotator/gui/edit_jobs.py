"""Edits of many frames without stalling the window: deleting or merging objects and undoing
or redoing large steps are computed in a worker (`VideoAnnotation.prepare_*`), then committed
a slice per event-loop turn, with progress. Small ones run at once."""

from __future__ import annotations

import time
from collections.abc import Callable

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from annotator.annotation import VideoAnnotation
from annotator.annotation.prepared import PreparedChange, Progress
from annotator.gui.workers import TaskQueue

SMALL_FRAMES = 8  # a change of at most this many frames is made at once, on this thread
COMMIT_BUDGET_S = 0.008  # time spent committing per event-loop turn
PROGRESS_EVERY_S = 0.1  # the worker reports progress at most this often

Prepare = Callable[[Progress | None], PreparedChange | None]


class EditJobs(QObject):
    """Runs one large edit at a time; `running` names it while it runs."""

    started = pyqtSignal(str)  # what is being done
    progress = pyqtSignal(int, int)  # frames done, frames to do
    finished = pyqtSignal(str)  # what was done
    message = pyqtSignal(str)
    error = pyqtSignal(str)
    _reported = pyqtSignal(int, int)  # from the worker

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue = TaskQueue("vos-edits", self)
        self.running = ""
        self._annotation: VideoAnnotation | None = None
        self._change: PreparedChange | None = None
        self._last_report = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._commit_some)
        self._reported.connect(self.progress)

    def run(self, what: str, annotation: VideoAnnotation, prepare: Prepare, frames: int) -> None:
        """Make the change `prepare` computes, called `what`; `frames`: about how many frames
        it touches (a few: at once; more: in the worker)."""
        if self.running:
            self.message.emit(f"Wait for {self.running} to finish")
            return
        if frames <= SMALL_FRAMES:
            change = prepare(None)
            if change is not None:
                annotation.commit(change)
            return
        self.running, self._annotation = what, annotation
        self.started.emit(what)
        self.progress.emit(0, frames)
        self._queue.submit(lambda: prepare(self._report), self._begin_commit, self._failed)

    def _report(self, done: int, total: int) -> None:
        """In the worker: progress, now and then."""
        now = time.monotonic()
        if now - self._last_report >= PROGRESS_EVERY_S or done == total:
            self._last_report = now
            self._reported.emit(done, total)

    def _begin_commit(self, change: PreparedChange | None) -> None:
        if change is None or self._annotation is None:
            self._end()
            return
        self._change = change
        self._timer.start()

    def _commit_some(self) -> None:
        change, annotation = self._change, self._annotation
        if change is None or annotation is None:
            self._timer.stop()
            return
        try:
            done = annotation.commit(change, COMMIT_BUDGET_S)
        except RuntimeError as exc:  # the history moved: nothing more is applied
            self._failed(str(exc))
            return
        if done:
            self._end()

    def _failed(self, message: str) -> None:
        self.error.emit(f"{self.running} failed: {message}")
        self._end()

    def _end(self) -> None:
        self._timer.stop()
        what, self.running = self.running, ""
        self._annotation = self._change = None
        self.finished.emit(what)

    def finish(self) -> None:
        """Complete the edit under way now (the video is closing)."""
        if self.running and self._change is None:  # still being prepared
            self._queue.wait_idle()
        if self._change is not None and self._annotation is not None:
            self._annotation.commit(self._change)
            self._end()

    def shutdown(self) -> None:
        self.finish()
        self._queue.shutdown()
