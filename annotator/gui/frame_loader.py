"""Frames for the window without waiting for a decode: a frame in the cache is there at once,
and so is one that costs a single decode (a still image, the next frame of a video); any other
(a seek in a video file: a decode from its keyframe) is decoded in a worker, the latest asked
for first, with the nearest cached frame standing in meanwhile. The frames after the one shown
are decoded ahead."""

from __future__ import annotations

import threading

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal

from annotator.gui.workers import TaskQueue, describe_failure
from annotator.video.source import FrameSource

DECODE_AHEAD = 3  # frames decoded after the one asked for, while nothing else is wanted
CHEAP_FRAMES = 2  # a frame this many decodes away is decoded where it is asked for


class FrameLoader(QObject):
    """Decodes the frames of one source in its own thread, one request at a time."""

    loaded = pyqtSignal(int)  # index: the frame is in the cache now
    failed = pyqtSignal(int, str)  # index, message
    _result = pyqtSignal(object, int, str)  # source, index, message ("" when decoded)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue = TaskQueue("vos-frames", self)
        self._lock = threading.Lock()
        self._source: FrameSource | None = None
        self._wanted: int | None = None
        self._running = False
        self._result.connect(self._on_result)  # queued: emitted in the worker

    def set_source(self, source: FrameSource | None) -> None:
        """Decode from `source` from now on (None: nothing). A decode under way may finish
        after its source was closed: its failure is not reported."""
        with self._lock:
            self._source, self._wanted = source, None

    def cached(self, index: int) -> np.ndarray | None:
        source = self._source
        return None if source is None else source.cache.get(index)

    def cheap(self, index: int) -> bool:
        """Whether frame `index` decodes as fast as one frame (a still image, or the next
        frames of a running video decoder): the window may decode it itself."""
        source = self._source
        return source is not None and source.decode_cost(index) <= CHEAP_FRAMES

    def decode_here(self, index: int) -> np.ndarray:
        """Decode frame `index` on this thread (only when `cheap`); AnnotatorError names a
        frame that cannot be read."""
        assert self._source is not None
        return self._source[index]

    def stand_in(self, index: int) -> np.ndarray | None:
        """The cached frame nearest to `index`, or None."""
        source = self._source
        found = None if source is None else source.cache.nearest(index)
        return None if found is None else found[1]

    def request(self, index: int) -> None:
        """Have frame `index` decoded (instead of any frame asked for before and not begun)."""
        with self._lock:
            self._wanted = index
            start = not self._running and self._source is not None
            self._running = self._running or start
        if start:
            self._queue.submit(self._work, self._idle, lambda message: self._idle(None))

    @property
    def busy(self) -> bool:
        return self._running

    def _work(self) -> None:
        """In the worker: decode what is wanted, then a few frames ahead, until nothing is."""
        while True:
            with self._lock:
                source, index, self._wanted = self._source, self._wanted, None
            if source is None or index is None:
                return
            try:
                source[index]
            except Exception as exc:  # a damaged frame: say which, carry on
                self._result.emit(source, index, describe_failure(exc))
                continue
            self._result.emit(source, index, "")
            for ahead in range(index + 1, min(index + 1 + DECODE_AHEAD, len(source))):
                if self._wanted is not None or self._source is not source:
                    break
                try:
                    source[ahead]
                except Exception:  # reported when that frame is asked for
                    break

    def _idle(self, _: object) -> None:
        with self._lock:
            self._running = False
            again = self._wanted
        if again is not None:
            self.request(again)

    def _on_result(self, source: FrameSource, index: int, message: str) -> None:
        if source is not self._source:
            return  # a frame of a video closed since
        if message:
            self.failed.emit(index, message)
        else:
            self.loaded.emit(index)

    def shutdown(self) -> None:
        self._queue.shutdown()
