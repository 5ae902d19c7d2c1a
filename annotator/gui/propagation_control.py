"""The GUI side of propagation: starts passes in the propagation worker, applies the label maps
it streams back a few at a time (so the GUI thread never stalls), and makes the whole pass one
undo step."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from annotator.gui.workers import PropagationWorker, start_in_thread, stop_thread
from annotator.video.source import open_frames

if TYPE_CHECKING:
    from annotator.annotation import VideoAnnotation
    from annotator.gui.controller import Controller

APPLY_BUDGET_S = 0.012  # GUI-thread time spent applying results per event-loop turn
DIRECTIONS = ("forward", "backward", "both")


class PropagationControl(QObject):
    _load = pyqtSignal(object)
    _run = pyqtSignal(int, object)

    def __init__(self, controller: Controller) -> None:
        super().__init__(controller)
        self.controller = controller
        self.description = "loading…"
        self.worker = PropagationWorker()
        self.thread = start_in_thread(self.worker, "vos-propagation-model")
        self._load.connect(self.worker.load)
        self._run.connect(self.worker.run)
        self.worker.loaded.connect(self._on_loaded)
        self.worker.chunk.connect(self._on_chunk)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.job = 0
        self.running = False
        self.object_ids: list[int] | None = None
        self._queue: deque[tuple[int, np.ndarray]] = deque()
        self._worker_done = False
        self._cancelled = False
        self._drain = QTimer(self)
        self._drain.setInterval(0)
        self._drain.timeout.connect(self._apply_some)

    def load(self, options: Mapping[str, Any]) -> None:
        self.description = "loading…"
        self._load.emit(dict(options))

    def start(self, direction: str, object_ids: list[int] | None = None) -> None:
        c = self.controller
        annotation, frames = c.annotation, c.frames
        if annotation is None or frames is None or direction not in DIRECTIONS:
            return
        ids = sorted(annotation.objects) if not object_ids else sorted(object_ids)
        indices = annotation.keyframe_indices(ids)
        if not indices:
            c.message.emit("Nothing to propagate: make a mask on some frame first")
            return
        count = len(frames)
        total = {"forward": count - 1 - c.index, "backward": c.index, "both": count - 1}[direction]
        if total <= 0:
            c.message.emit(f"No frames {direction} of this one")
            return
        self.job += 1
        self.running, self._worker_done, self._cancelled = True, False, False
        self.object_ids = list(object_ids) if object_ids else None
        self._queue.clear()
        self.worker.stop_event.clear()
        annotation.history.begin(f"propagate {direction}")  # the whole pass: one undo step
        path, cache = frames.path, c.prefs.frame_cache_mb * 2**20
        self._run.emit(self.job, {
            "open_frames": lambda: open_frames(path, cache_bytes=cache),
            "read_keyframes": lambda: _keyframes(annotation, indices, ids if object_ids else None),
            "start": c.index,
            "direction": direction,
            "total": total,
        })
        c.propagation_started.emit(total)
        c.message.emit(f"Propagating {direction} from frame {c.index + 1} with "
                       f"{self.description}")

    def cancel(self) -> None:
        if self.running:
            self._cancelled = True
            self.worker.stop_event.set()

    # ---- from the worker -----------------------------------------------------------------
    def _on_loaded(self, description: str) -> None:
        self.description = description
        self.controller.engines_changed.emit()

    def _on_chunk(self, job: int, results: list[tuple[int, np.ndarray]]) -> None:
        if job == self.job and self.running:
            self._queue.extend(results)
            self._drain.start()

    def _on_progress(self, job: int, done: int, total: int) -> None:
        if job == self.job:
            self.controller.propagation_progress.emit(done, total)

    def _on_finished(self, job: int, cancelled: bool) -> None:
        if job == self.job:
            self._worker_done = True
            self._cancelled |= cancelled
            self._drain.start()

    def _on_failed(self, job: int, message: str) -> None:
        if job == 0:  # the engine failed to load
            self.description = "none (failed to load)"
            self.controller.engines_changed.emit()
        if job == self.job and self.running:
            self._worker_done = True
            self._drain.start()
        self.controller.error.emit(message)

    # ---- applying results ----------------------------------------------------------------
    def _apply_some(self) -> None:
        """Apply queued label maps for at most APPLY_BUDGET_S, then yield to the event loop."""
        annotation = self.controller.annotation
        deadline = time.monotonic() + APPLY_BUDGET_S
        applied = False
        while self._queue and annotation is not None and time.monotonic() < deadline:
            index, labels = self._queue.popleft()
            annotation.apply_propagated(index, labels, self.object_ids)
            applied = True
        if applied and not self._queue:
            self.controller.autosaver.schedule(0)  # every propagated chunk is saved
        if not self._queue:
            self._drain.stop()
            if self._worker_done:
                self._finish()

    def _finish(self) -> None:
        annotation = self.controller.annotation
        if annotation is not None and annotation.history.recording:
            annotation.history.end()
        self.running = False
        cancelled = self._cancelled
        self.controller.propagation_finished.emit(cancelled)
        self.controller.masks_changed.emit()
        self.controller.message.emit("Propagation cancelled" if cancelled
                                     else "Propagation finished")
        self.controller.autosaver.schedule(0)

    def abort(self) -> None:
        """Stop now and drop results not applied yet (the video is closing)."""
        self.cancel()
        self._queue.clear()
        self._drain.stop()
        if self.running:
            self._finish()

    def shutdown(self) -> None:
        self.abort()
        stop_thread(self.thread)


def _keyframes(annotation: VideoAnnotation, indices: list[int],
               object_ids: list[int] | None) -> dict[int, np.ndarray]:
    """Frame index -> label map of each keyframe (in the worker: one decode per keyframe),
    reduced to `object_ids` when given."""
    if object_ids is None:
        return {i: annotation.label_map(i) for i in indices}
    return {i: _only(annotation.label_map(i), object_ids) for i in indices}


def _only(labels: np.ndarray, object_ids: list[int]) -> np.ndarray:
    """The label map with every object outside `object_ids` turned into background."""
    keep = np.zeros(256, dtype=bool)
    keep[object_ids] = True
    keep[255] = True
    return np.where(keep[labels], labels, 0).astype(np.uint8)
