"""The click worker: owns the click segmenter and its ClickSession; every call runs in its
thread, and each answer goes back to the GUI with the epoch it was asked in."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal, pyqtSlot

from annotator.engine.click_session import Box, ClickSession
from annotator.engine.segmenters import make_click_segmenter
from annotator.gui.workers import EngineChoice, describe_failure, load_engine
from models.protocols import ClickPrediction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClickResult:
    """The click session after a request: its prediction, the candidate in use, the clicks
    and the box."""

    prediction: ClickPrediction | None
    chosen: int
    clicks: tuple[tuple[float, float, bool], ...]
    box: Box | None = None


class ClickWorker(QObject):
    """Runs the prompts of one frame at a time; requests of an older epoch are dropped."""

    loaded = pyqtSignal(object)  # EngineInfo
    result = pyqtSignal(int, object)  # epoch, ClickResult
    failed = pyqtSignal(str)

    def __init__(self) -> None:
        super().__init__()
        self.session: ClickSession | None = None
        self.epoch = 0

    @pyqtSlot(object)
    def load(self, choice: EngineChoice) -> None:
        make = partial(make_click_segmenter, device=choice.device, folder=choice.weights_dir)
        loaded = load_engine(make, choice.engine, self.failed.emit)
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

    def _call(self, epoch: int, action: Callable[[ClickSession], object],
              emit: bool = True) -> None:
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
            self.result.emit(epoch, ClickResult(session.current, session.chosen, clicks,
                                                session.box))


def _best_first(session: ClickSession, prediction: ClickPrediction) -> None:
    """Of several candidates, start with the one the segmenter scores highest."""
    if len(prediction.scores) > 1:
        session.choose(int(np.argmax(prediction.scores)))
