"""The GUI side of click segmentation: sends prompts to the click worker, keeps its answer."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from annotator.engine.click_session import Box
from annotator.gui.click_worker import ClickResult, ClickWorker
from annotator.gui.engine_control import EngineControl
from annotator.gui.workers import EngineChoice

PREFETCH_AFTER_MS = 600


class ClickControl(EngineControl):
    """Prompts of the current frame and object; an epoch number drops stale answers.

    The frame goes to the worker only with the first prompt after the frame or object changed,
    so scrolling through a video never queues segmenter work. Prompts made while the frame is
    still being decoded wait for it (`provide`).
    """

    candidates_changed = pyqtSignal()
    _set_frame = pyqtSignal(int, int, object)
    _add_click = pyqtSignal(int, float, float, bool)
    _set_box = pyqtSignal(int, float, float, float, float)
    _choose = pyqtSignal(int, int)
    _undo = pyqtSignal(int)
    _prefetch = pyqtSignal(int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        worker = ClickWorker()
        super().__init__(worker, "vos-click-model", parent)
        self.worker = worker
        self._set_frame.connect(self.worker.set_frame)
        self._add_click.connect(self.worker.add_click)
        self._set_box.connect(self.worker.set_box)
        self._choose.connect(self.worker.choose)
        self._undo.connect(self.worker.undo_click)
        self._prefetch.connect(self.worker.prefetch)
        self._idle = QTimer(self)  # a frame looked at this long gets its embedding made
        self._idle.setSingleShot(True)
        self._idle.setInterval(PREFETCH_AFTER_MS)
        self._idle.timeout.connect(self._prefetch_current)
        self.worker.result.connect(self._on_result)
        self.worker.failed.connect(self._on_failed)
        self.epoch = 0
        self._prepared = -1
        self._index: int | None = None  # the frame prompts are for
        self._frame: np.ndarray | None = None  # its picture, once decoded
        self._waiting: list[Callable[[], None]] = []  # prompts made before it was
        self.clicks: list[tuple[float, float, bool]] = []
        self.box_prompt: Box | None = None
        self.result: ClickResult | None = None
        self.chosen = 0
        self.pending = 0  # prompts sent and not answered yet

    def load(self, choice: EngineChoice) -> None:
        """Load an engine in the worker; prompts after this go to the new session."""
        super().load(choice)
        self._forget()

    # ---- prompts -------------------------------------------------------------------------
    @property
    def frame_index(self) -> int | None:
        """The frame prompts go to (None until it is decoded)."""
        return None if self._frame is None else self._index

    @property
    def busy(self) -> bool:
        """A prompt was sent and its answer has not come yet."""
        return self.pending > 0

    def start(self, index: int, frame: np.ndarray | None) -> None:
        """A new frame or object: prompts start over (`frame` None: it is being decoded)."""
        self._index, self._frame = index, frame
        self._forget()
        if frame is not None:
            self._idle.start()

    def provide(self, index: int, frame: np.ndarray) -> None:
        """The frame of `start` is decoded now: prompts made meanwhile go to the worker."""
        if index != self._index or self._frame is not None:
            return
        self._frame = frame
        waiting, self._waiting = self._waiting, []
        for prompt in waiting:
            self._send(prompt)  # the frame goes first: the worker drops prompts without it
        self._idle.start()

    def _prefetch_current(self) -> None:
        if self._index is not None and self._frame is not None:
            self._prefetch.emit(self._index, self._frame)

    def click(self, x: float, y: float, positive: bool) -> None:
        if self._index is not None:
            self.clicks.append((x, y, positive))
            self.pending += 1
            epoch = self.epoch
            self._send(lambda: self._add_click.emit(epoch, float(x), float(y), bool(positive)))
            self.candidates_changed.emit()

    def box(self, x0: float, y0: float, x1: float, y1: float) -> None:
        if self._index is not None:
            self.box_prompt = (x0, y0, x1, y1)
            self.pending += 1
            epoch = self.epoch
            self._send(lambda: self._set_box.emit(epoch, x0, y0, x1, y1))
            self.candidates_changed.emit()

    def choose(self, candidate: int) -> None:
        if 0 <= candidate < self.count:
            self.chosen = candidate
            self._choose.emit(self.epoch, candidate)
            self.candidates_changed.emit()

    def next_candidate(self) -> None:
        if self.count > 1:
            self.choose((self.chosen + 1) % self.count)

    def undo(self) -> None:
        if self.clicks or self.result is not None:
            self.pending += 1
            epoch = self.epoch
            self._send(lambda: self._undo.emit(epoch))
            self.candidates_changed.emit()

    def reset(self) -> None:
        """Drop the prompts and candidates of this frame."""
        self._forget()

    def clear(self) -> None:
        """No frame any more (the video closed)."""
        self._idle.stop()
        self._index = self._frame = None
        self._forget()

    # ---- answers -------------------------------------------------------------------------
    @property
    def count(self) -> int:
        prediction = None if self.result is None else self.result.prediction
        return 0 if prediction is None else len(prediction.masks)

    def mask(self) -> np.ndarray | None:
        """The candidate in use (H x W bool), or None."""
        if self.result is None or self.result.prediction is None or self.count == 0:
            return None
        chosen: np.ndarray = self.result.prediction.masks[min(self.chosen, self.count - 1)]
        return chosen

    def score(self) -> float:
        if self.result is None or self.result.prediction is None or self.count == 0:
            return 0.0
        return float(self.result.prediction.scores[min(self.chosen, self.count - 1)])

    def _on_result(self, epoch: int, result: ClickResult) -> None:
        if epoch != self.epoch:
            return
        self.pending = max(0, self.pending - 1)
        self.result = result
        self.chosen = result.chosen
        self.clicks = list(result.clicks)
        self.box_prompt = result.box
        self.candidates_changed.emit()

    def _on_failed(self, message: str) -> None:
        self.pending = max(0, self.pending - 1)
        self._load_failed()
        self.error.emit(message)
        self.candidates_changed.emit()

    def _send(self, prompt: Callable[[], None]) -> None:
        """Send `prompt`, after the frame when it is the first of this epoch; hold it while
        the frame is being decoded."""
        if self._frame is None or self._index is None:
            self._waiting.append(prompt)
            return
        if self._prepared != self.epoch:
            self._set_frame.emit(self.epoch, self._index, self._frame)
            self._prepared = self.epoch
        prompt()

    def _forget(self) -> None:
        self.epoch += 1
        self._waiting = []
        self.clicks = []
        self.box_prompt = None
        self.result = None
        self.chosen = 0
        self.pending = 0
        self.candidates_changed.emit()

    def shutdown(self) -> None:
        self._idle.stop()
        super().shutdown()
