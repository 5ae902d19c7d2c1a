"""Worker threads. Each model lives in exactly one of them; the GUI thread sends requests and
gets results back through queued signals, so it never waits for a model, a decode of many
frames or a save."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from PyQt6.QtCore import QObject, QThread, pyqtSignal, pyqtSlot

from annotator.engine.click_session import ClickSession
from annotator.engine.propagation import PropagationSession
from annotator.engine.propagators import make_propagator
from annotator.engine.protocols import ClickPrediction
from annotator.engine.segmenters import make_click_segmenter
from annotator.errors import AnnotatorError

log = logging.getLogger(__name__)
CHUNK_SECONDS = 0.25  # propagated frames are handed to the GUI at most this often...
CHUNK_FRAMES = 10  # ...or after this many frames


def describe_failure(exc: BaseException) -> str:
    """A one-line message for a person: AnnotatorError as written, anything else named."""
    if isinstance(exc, AnnotatorError):
        return str(exc)
    log.error("unexpected failure in a worker", exc_info=exc)
    return f"{type(exc).__name__}: {exc}"


def load_engine(make: Callable[..., tuple[Any, str]], options: Mapping[str, Any],
                report: Callable[[str], None]) -> tuple[Any, str] | None:
    """`make(**options)`; when that fails, say why and fall back to the classic engine."""
    try:
        return make(**options)
    except Exception as exc:
        report(describe_failure(exc))
    if options.get("engine") == "classic":
        return None
    try:
        engine, description = make("classic")
    except Exception as exc:
        report(describe_failure(exc))
        return None
    return engine, f"{description} (the chosen engine failed to load)"


def start_in_thread(worker: QObject, name: str) -> QThread:
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.start()
    return thread


def stop_thread(thread: QThread, timeout_ms: int = 10000) -> None:
    thread.quit()
    if not thread.wait(timeout_ms):
        log.warning("worker thread %s did not stop in time", thread.objectName())


class _TaskWorker(QObject):
    done = pyqtSignal(int, object)
    failed = pyqtSignal(int, str)

    @pyqtSlot(int, object)
    def run(self, job: int, task: Callable[[], Any]) -> None:
        try:
            result = task()
        except Exception as exc:  # every failure becomes a message, never a crash
            self.failed.emit(job, describe_failure(exc))
            return
        self.done.emit(job, result)


class TaskQueue(QObject):
    """Runs plain callables one after another in one worker thread (saves, exports, scans)."""

    _submit = pyqtSignal(int, object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker = _TaskWorker()
        self._thread = start_in_thread(self._worker, name)
        self._submit.connect(self._worker.run)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self._on_failed)
        self._callbacks: dict[int, tuple[Callable | None, Callable | None]] = {}
        self._next_job = 0

    @property
    def busy(self) -> bool:
        return bool(self._callbacks)

    def submit(
        self,
        task: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_failed: Callable[[str], None] | None = None,
    ) -> int:
        self._next_job += 1
        self._callbacks[self._next_job] = (on_done, on_failed)
        self._submit.emit(self._next_job, task)
        return self._next_job

    def _on_done(self, job: int, result: object) -> None:
        on_done, _ = self._callbacks.pop(job, (None, None))
        if on_done is not None:
            on_done(result)

    def _on_failed(self, job: int, message: str) -> None:
        _, on_failed = self._callbacks.pop(job, (None, None))
        if on_failed is not None:
            on_failed(message)

    def shutdown(self) -> None:
        stop_thread(self._thread)


@dataclass(frozen=True)
class ClickResult:
    """The click session after a request: its prediction, the candidate in use, the prompts."""

    frame: int
    prediction: ClickPrediction | None
    chosen: int
    clicks: tuple[tuple[float, float, bool], ...]
    box: tuple[float, float, float, float] | None


class ClickWorker(QObject):
    """Owns the click segmenter and its ClickSession; every call runs in its thread."""

    loaded = pyqtSignal(str)
    result = pyqtSignal(int, object)  # epoch, ClickResult
    failed = pyqtSignal(str)

    def __init__(self) -> None:
        super().__init__()
        self.session = None
        self.epoch = 0

    @pyqtSlot(object)
    def load(self, options: Mapping[str, Any]) -> None:
        loaded = load_engine(make_click_segmenter, options, self.failed.emit)
        if loaded is not None:
            self.session = ClickSession(loaded[0])
            self.loaded.emit(loaded[1])

    @pyqtSlot(int, int, object)
    def set_frame(self, epoch: int, index: int, frame: np.ndarray) -> None:
        """A new frame (or object): prompts start over; the embedding is made now."""
        self.epoch = epoch
        self._call(epoch, lambda s: s.set_frame(index, frame), emit=False)

    @pyqtSlot(int, object)
    def prefetch(self, index: int, frame: np.ndarray) -> None:
        """Embed a frame the person is looking at, before they click (SAM only)."""
        if self.session is not None:
            try:
                self.session.prefetch(index, frame)
            except Exception as exc:
                log.warning("prefetching frame %d failed: %s", index, exc)

    @pyqtSlot(int, float, float, bool)
    def add_click(self, epoch: int, x: float, y: float, positive: bool) -> None:
        self._call(epoch, lambda s: _best_first(s, s.add_click(x, y, positive)))

    @pyqtSlot(int, float, float, float, float)
    def set_box(self, epoch: int, x0: float, y0: float, x1: float, y1: float) -> None:
        self._call(epoch, lambda s: _best_first(s, s.set_box(x0, y0, x1, y1)))

    @pyqtSlot(int, int)
    def choose(self, epoch: int, candidate: int) -> None:
        self._call(epoch, lambda s: s.choose(candidate))

    @pyqtSlot(int)
    def undo_click(self, epoch: int) -> None:
        self._call(epoch, lambda s: s.undo_click())

    @pyqtSlot(int)
    def reset(self, epoch: int) -> None:
        self.epoch = epoch
        self._call(epoch, lambda s: s.reset())

    def _call(self, epoch: int, action: Callable[[Any], Any], emit: bool = True) -> None:
        if self.session is None or epoch != self.epoch:
            return  # no engine yet, or the person moved on before this request was reached
        try:
            action(self.session)
        except Exception as exc:
            self.failed.emit(describe_failure(exc))
            return
        if emit:
            session = self.session
            clicks = tuple((c.x, c.y, c.positive) for c in session.clicks)
            self.result.emit(epoch, ClickResult(session.frame_index or 0, session.current,
                                                session.chosen, clicks, session.box))


def _best_first(session, prediction: ClickPrediction) -> None:
    """Of several candidates, start with the one the segmenter scores highest."""
    if len(prediction.scores) > 1:
        session.choose(int(np.argmax(prediction.scores)))


class PropagationWorker(QObject):
    """Owns the propagator; runs one pass at a time and streams its label maps in chunks."""

    loaded = pyqtSignal(str)
    chunk = pyqtSignal(int, object)  # job, list of (index, label map)
    progress = pyqtSignal(int, int, int)  # job, frames done, frames to do
    finished = pyqtSignal(int, bool)  # job, cancelled
    failed = pyqtSignal(int, str)

    def __init__(self) -> None:
        super().__init__()
        self.propagator = None
        self.stop_event = threading.Event()

    @pyqtSlot(object)
    def load(self, options: Mapping[str, Any]) -> None:
        loaded = load_engine(make_propagator, options, lambda text: self.failed.emit(0, text))
        if loaded is not None:
            self.propagator = loaded[0]
            self.loaded.emit(loaded[1])

    @pyqtSlot(int, object)
    def run(self, job: int, request: Mapping[str, Any]) -> None:
        """`request`: open_frames (callable -> frame sequence), read_keyframes (callable ->
        frame index -> label map), start, direction, total (frames expected)."""
        if self.propagator is None:
            self.failed.emit(job, "no propagation engine is loaded")
            return
        frames = None
        pending: list[tuple[int, np.ndarray]] = []
        last_flush = time.monotonic()
        counts = [0, request["total"]]  # frames done, frames planned

        def on_progress(done: int, total: int) -> None:
            counts[:] = [done, total]

        try:
            keyframes = request["read_keyframes"]()
            frames = request["open_frames"]()
            session = PropagationSession(self.propagator)
            for index, labels in session.run(
                frames,
                keyframes,
                request["start"],
                request["direction"],
                should_stop=self.stop_event.is_set,
                on_progress=on_progress,
            ):
                pending.append((index, labels))
                now = time.monotonic()
                if len(pending) >= CHUNK_FRAMES or now - last_flush >= CHUNK_SECONDS:
                    self.chunk.emit(job, pending)
                    self.progress.emit(job, *counts)
                    pending, last_flush = [], now
        except Exception as exc:
            if pending:
                self.chunk.emit(job, pending)
            self.failed.emit(job, describe_failure(exc))
            return
        finally:
            if frames is not None and hasattr(frames, "close"):
                frames.close()
        if pending:
            self.chunk.emit(job, pending)
        self.progress.emit(job, *counts)
        self.finished.emit(job, self.stop_event.is_set())
