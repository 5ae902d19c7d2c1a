"""Worker threads. Each model lives in exactly one of them; the GUI thread sends requests and
gets results back through queued signals, so it never waits for a model, a decode of many
frames or a save. Here: starting and stopping them, loading an engine, and the task queue."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from PyQt6.QtCore import QCoreApplication, QEventLoop, QObject, QThread, pyqtSignal, pyqtSlot

from annotator.engine.engine_info import EngineInfo
from annotator.errors import AnnotatorError, describe_os_error

log = logging.getLogger(__name__)
Engine = TypeVar("Engine")


@dataclass(frozen=True)
class EngineChoice:
    """The engine a worker loads: its name ("auto", "classic", ...), the device (None: the
    best there is), the weights folder (None: the user's) and, for propagation, the memory
    budget in frames (None: the engine's default)."""

    engine: str = "auto"
    device: str | None = None
    weights_dir: str | None = None
    memory_frames: int | None = None


def describe_failure(exc: BaseException) -> str:
    """A one-line message for a person: AnnotatorError as written, anything else named."""
    if isinstance(exc, AnnotatorError):
        return str(exc)
    if isinstance(exc, OSError):  # a full or read-only disk, a file where a folder should be
        return describe_os_error(exc)
    log.error("unexpected failure in a worker", exc_info=exc)
    return f"{type(exc).__name__}: {exc}"


def load_engine(make: Callable[[str], tuple[Engine, EngineInfo]], engine: str,
                report: Callable[[str], None]) -> tuple[Engine, EngineInfo] | None:
    """`make(engine)`; when that fails, say why and fall back to the classic engine."""
    try:
        return make(engine)
    except Exception as exc:
        report(describe_failure(exc))
    if engine == "classic":
        return None
    try:
        loaded, info = make("classic")
    except Exception as exc:
        report(describe_failure(exc))
        return None
    return loaded, info.after_failure()


class Movable(Protocol):
    def moveToThread(self, thread: QThread | None) -> None: ...


def start_in_thread(worker: Movable, name: str) -> QThread:
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
        self._callbacks: dict[int, tuple[Callable[[Any], None] | None,
                                         Callable[[str], None] | None]] = {}
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

    def wait_idle(self, timeout_s: float = 120.0) -> bool:
        """Run the event loop until every task submitted has reported back; False on
        timeout. For closing only: a window waits this way for work it cannot drop."""
        deadline = time.monotonic() + timeout_s
        while self._callbacks and time.monotonic() < deadline:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.002)
        return not self._callbacks

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
