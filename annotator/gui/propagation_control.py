"""The GUI side of propagation: starts requests in the propagation worker, applies the frames
it streams back a few at a time (so the GUI thread never stalls), and makes the whole pass one
undo step."""

from __future__ import annotations

import time
from collections import deque

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from annotator.annotation import VideoAnnotation
from annotator.engine.propagation import PropagationRequest, check_request
from annotator.engine.video_job import check_frame_size
from annotator.errors import AnnotatorError
from annotator.gui.engine_control import EngineControl
from annotator.gui.opened_video import OpenedVideo
from annotator.gui.propagation_worker import PropagationTask, PropagationWorker
from models.protocols import PropagatedFrame

APPLY_BUDGET_S = 0.012  # GUI-thread time spent applying results per event-loop turn
# The worker reads frames in order: a small cache of its own is enough (the window's cache
# holds what the person looks at; two large caches would double the memory for nothing).


class PropagationControl(EngineControl):
    started = pyqtSignal(int)  # frames to do
    progress = pyqtSignal(int, int)  # frames done, frames to do
    applied = pyqtSignal()  # the frames received so far are in the annotation
    finished = pyqtSignal(bool)  # cancelled
    message = pyqtSignal(str)
    _run = pyqtSignal(int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        worker = PropagationWorker()
        super().__init__(worker, "vos-propagation-model", parent)
        self.worker = worker
        self._run.connect(self.worker.run)
        self.worker.chunk.connect(self._on_chunk)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.job = 0
        self.running = False
        self._annotation: VideoAnnotation | None = None
        self._request: PropagationRequest | None = None
        self._undo_group = object()  # the applied frames of one pass: one undo step
        self._queue: deque[PropagatedFrame] = deque()
        self._worker_done = False
        self._cancelled = False
        self._protect = False
        self._name = ""
        self._drain = QTimer(self)
        self._drain.setInterval(0)
        self._drain.timeout.connect(self._apply_some)

    def start(self, video: OpenedVideo, request: PropagationRequest, cache_bytes: int,
              protect: bool = False) -> None:
        """Run `request` on the open video in the worker; its frames join the annotation as
        they come (with `protect`, an object new to a frame takes only background there)."""
        if self.running:
            self.message.emit("A propagation is running already")
            return
        annotation, frames = video.annotation, video.project.frames
        try:
            check_frame_size(frames)
            total = check_request(request, len(frames), annotation)
        except AnnotatorError as exc:
            self.message.emit(str(exc))
            return
        self.job += 1
        self.running, self._worker_done, self._cancelled = True, False, False
        self._annotation, self._request, self._undo_group = annotation, request, object()
        self._protect = protect
        until = "" if request.end is None else f" to frame {request.end + 1}"
        self._name = f"propagate {request.direction} from frame {request.start + 1}{until}"
        self._queue.clear()
        self.worker.stop_event.clear()
        self._run.emit(self.job, PropagationTask(request, annotation, frames.path,
                                                 cache_bytes, total))
        self.started.emit(total)
        self.message.emit(f"{self._name.capitalize()} with {self.description}")

    def cancel(self) -> None:
        if self.running:
            self._cancelled = True
            self.worker.stop_event.set()

    # ---- from the worker -----------------------------------------------------------------
    def _on_chunk(self, job: int, results: list[PropagatedFrame]) -> None:
        if job == self.job and self.running:
            self._queue.extend(results)
            self._drain.start()

    def _on_progress(self, job: int, done: int, total: int) -> None:
        if job == self.job:
            self.progress.emit(done, total)

    def _on_finished(self, job: int, cancelled: bool) -> None:
        if job == self.job:
            self._worker_done = True
            self._cancelled |= cancelled
            self._drain.start()

    def _on_failed(self, job: int, message: str) -> None:
        if job == 0:  # the engine failed to load
            self._load_failed()
        if job == self.job and self.running:
            self._worker_done = True
            self._drain.start()
        self.error.emit(message)

    # ---- applying results ----------------------------------------------------------------
    def _apply_some(self) -> None:
        """Apply queued frames for at most APPLY_BUDGET_S, then yield to the event loop."""
        annotation, request = self._annotation, self._request
        if self._queue and annotation is not None and request is not None:
            deadline = time.monotonic() + APPLY_BUDGET_S
            with annotation.transaction(self._name, self._undo_group):
                while self._queue and time.monotonic() < deadline:
                    frame = self._queue.popleft()
                    annotation.apply_propagated(frame.index, frame.labels, request.object_ids,
                                                frame.confidence, self._protect)
            if not self._queue:
                self.applied.emit()
        if not self._queue:
            self._drain.stop()
            if self._worker_done:
                self._finish()

    def _finish(self) -> None:
        self.running = False
        self._annotation = self._request = None
        cancelled = self._cancelled
        self.finished.emit(cancelled)
        self.message.emit("Propagation cancelled" if cancelled else "Propagation finished")

    def abort(self) -> None:
        """Stop now and drop results not applied yet (the video is closing)."""
        self.cancel()
        self._queue.clear()
        self._drain.stop()
        if self.running:
            self._finish()

    def shutdown(self) -> None:
        self.abort()
        super().shutdown()
