"""The propagation worker: owns the propagator, runs one request at a time (its keyframes read
and its frames decoded here, never on the GUI thread) and streams the frames back in chunks."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PyQt6.QtCore import QObject, pyqtSignal, pyqtSlot

from annotator.engine.propagation import (
    KeyframeSource,
    PropagationRequest,
    PropagationSession,
    read_keyframes,
)
from annotator.engine.propagators import make_propagator
from annotator.gui.workers import EngineChoice, describe_failure, load_engine
from annotator.video.opening import open_frames
from annotator.video.source import FrameSource
from models.protocols import PropagatedFrame, Propagator

CHUNK_SECONDS = 0.25  # propagated frames are handed to the GUI at most this often...
CHUNK_FRAMES = 10  # ...or after this many frames


@dataclass(frozen=True)
class PropagationTask:
    """A request and where its inputs are: the keyframes' source (an annotation, read in the
    worker) and the frames (opened in the worker with a cache of `cache_bytes`)."""

    request: PropagationRequest
    keyframes: KeyframeSource
    frames: Path
    cache_bytes: int
    total: int  # frames the request is expected to cover, for progress before the first frame


class PropagationWorker(QObject):
    """Runs one task at a time and streams its `PropagatedFrame`s in chunks."""

    loaded = pyqtSignal(object)  # EngineInfo
    chunk = pyqtSignal(int, object)  # job, list of PropagatedFrame
    progress = pyqtSignal(int, int, int)  # job, frames done, frames to do
    finished = pyqtSignal(int, bool)  # job, cancelled
    failed = pyqtSignal(int, str)  # job (0: loading the engine), message

    def __init__(self) -> None:
        super().__init__()
        self.propagator: Propagator | None = None
        self.stop_event = threading.Event()

    @pyqtSlot(object)
    def load(self, choice: EngineChoice) -> None:
        make = partial(make_propagator, device=choice.device, memory_frames=choice.memory_frames,
                       folder=choice.weights_dir)
        loaded = load_engine(make, choice.engine, lambda text: self.failed.emit(0, text))
        if loaded is not None:
            self.propagator = loaded[0]
            self.loaded.emit(loaded[1])

    @pyqtSlot(int, object)
    def run(self, job: int, task: PropagationTask) -> None:
        if self.propagator is None:
            self.failed.emit(job, "no propagation engine is loaded")
            return
        frames: FrameSource | None = None
        pending: list[PropagatedFrame] = []
        last_flush = time.monotonic()
        counts = [0, task.total]  # frames done, frames planned

        def on_progress(done: int, total: int) -> None:
            counts[:] = [done, total]

        try:
            keyframes = read_keyframes(task.keyframes, task.request)
            frames = open_frames(task.frames, cache_bytes=task.cache_bytes)
            session = PropagationSession(self.propagator)
            for result in session.run(frames, keyframes, task.request,
                                      should_stop=self.stop_event.is_set,
                                      on_progress=on_progress):
                pending.append(result)
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
            if frames is not None:
                frames.close()
        if pending:
            self.chunk.emit(job, pending)
        self.progress.emit(job, *counts)
        self.finished.emit(job, self.stop_event.is_set())
