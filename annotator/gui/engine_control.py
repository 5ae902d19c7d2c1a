"""The GUI side of a worker thread that owns an engine: the thread, loading the engine, and
what the GUI knows of it (loading, loaded, failed)."""

from __future__ import annotations

from typing import Protocol

from PyQt6.QtCore import QObject, QThread, pyqtBoundSignal, pyqtSignal

from annotator.engine.engine_info import EngineInfo
from annotator.gui.engine_status import EngineStatus
from annotator.gui.workers import EngineChoice, start_in_thread, stop_thread


class EngineWorker(Protocol):
    """A worker that loads an engine (in its thread) and says what it loaded."""

    @property
    def loaded(self) -> pyqtBoundSignal: ...

    def load(self, choice: EngineChoice) -> None: ...

    def moveToThread(self, thread: QThread | None) -> None: ...


class EngineControl(QObject):
    """Starts `worker` in a thread of its own and keeps its engine's status."""

    engine_changed = pyqtSignal()
    error = pyqtSignal(str)
    _load = pyqtSignal(object)

    def __init__(self, worker: EngineWorker, thread_name: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = EngineStatus()
        self.thread = start_in_thread(worker, thread_name)
        self._load.connect(worker.load)
        worker.loaded.connect(self._on_loaded)

    @property
    def description(self) -> str:
        return self.engine.description

    def load(self, choice: EngineChoice) -> None:
        """Load an engine in the worker (the one before serves until it is loaded)."""
        self.engine.start_loading()
        self._load.emit(choice)

    def _on_loaded(self, info: EngineInfo) -> None:
        self.engine.set_loaded(info)
        self.engine_changed.emit()

    def _load_failed(self) -> None:
        if self.engine.set_failed():
            self.engine_changed.emit()

    def shutdown(self) -> None:
        stop_thread(self.thread)
