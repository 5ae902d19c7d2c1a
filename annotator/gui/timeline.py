"""Per-object timeline: one row per object, one cell per frame coloured by its state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PyQt6.QtCore import QRect, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent
from PyQt6.QtWidgets import QSizePolicy, QWidget

from annotator.annotation import STATES_BY_CODE

# State codes, ordered by how much they matter when several frames share one pixel column.
EMPTY, PROPAGATED, EDITED, KEYFRAME = 0, 1, 2, 3
STATE_CODES = {"empty": EMPTY, "propagated": PROPAGATED, "edited": EDITED, "keyframe": KEYFRAME}
DOUBT_COLOUR = QColor(230, 40, 40)
DOUBT_HEIGHT = 3  # pixels at the bottom of a row
STATE_COLOURS = {
    EMPTY: QColor(52, 52, 58),
    EDITED: QColor(255, 150, 30),
    KEYFRAME: QColor(255, 235, 60),
}
# annotation state code -> timeline code
_FROM_ANNOTATION = np.array([STATE_CODES[state.value] for state in STATES_BY_CODE], np.uint8)
ROW_HEIGHT = 16
MIN_ROWS = 4  # room kept for this many objects: adding the first few never moves the canvas
LABEL_WIDTH = 110
RULER_HEIGHT = 14


@dataclass
class TimelineRow:
    object_id: int
    label: str
    colour: tuple[int, int, int]
    states: np.ndarray  # (frames,) uint8 state codes
    doubted: np.ndarray  # (frames,) bool: the engine's confidence in the mask is low


class Timeline(QWidget):
    """Click or drag anywhere on the rows to seek; the current frame is a white line."""

    seek = pyqtSignal(int)
    object_clicked = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[TimelineRow] = []
        self.frame_count = 0
        self.current = 0
        self.setMouseTracking(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip(
            "Timeline per object: yellow keyframe, orange edited after propagation, "
            "object colour propagated, grey empty; a red line under a row where the "
            "propagator doubts its mask. Click to go to a frame."
        )
        self._update_height()

    def set_rows(self, rows: list[TimelineRow], frame_count: int) -> None:
        self.rows, self.frame_count = rows, frame_count
        self._update_height()
        self.update()

    def set_current(self, index: int) -> None:
        if index != self.current:
            self.current = index
            self.update()

    def _update_height(self) -> None:
        self.setFixedHeight(RULER_HEIGHT + ROW_HEIGHT * max(MIN_ROWS, len(self.rows)) + 4)

    def sizeHint(self) -> QSize:
        return QSize(600, self.height())

    def _track(self) -> QRect:
        return QRect(LABEL_WIDTH, RULER_HEIGHT, max(1, self.width() - LABEL_WIDTH - 4),
                     ROW_HEIGHT * max(1, len(self.rows)))

    def frame_at(self, x: float) -> int:
        track = self._track()
        if self.frame_count <= 0:
            return 0
        fraction = (x - track.left()) / track.width()
        return int(min(self.frame_count - 1, max(0, fraction * self.frame_count)))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(30, 30, 34))
        track = self._track()
        font = QFont(self.font())
        font.setPointSize(8)
        painter.setFont(font)
        if self.frame_count <= 0:
            painter.setPen(QColor(160, 160, 160))
            painter.drawText(track, Qt.AlignmentFlag.AlignCenter, "no video open")
            return
        self._paint_ruler(painter, track)
        columns = track.width()
        for row_index, row in enumerate(self.rows):
            top = track.top() + row_index * ROW_HEIGHT
            painter.fillRect(4, top + 3, 10, ROW_HEIGHT - 6, QColor(*row.colour))
            painter.setPen(QColor(220, 220, 220))
            painter.drawText(QRect(18, top, LABEL_WIDTH - 20, ROW_HEIGHT),
                             Qt.AlignmentFlag.AlignVCenter, row.label)
            binned = bin_states(row.states, columns)
            for code, start, stop in runs(binned):
                colour = QColor(*row.colour) if code == PROPAGATED else STATE_COLOURS[code]
                painter.fillRect(track.left() + start, top + 2, stop - start, ROW_HEIGHT - 4,
                                 colour)
            doubted = bin_states(row.doubted.view(np.uint8), columns)
            for code, start, stop in runs(doubted):
                if code:
                    painter.fillRect(track.left() + start, top + ROW_HEIGHT - 2 - DOUBT_HEIGHT,
                                     stop - start, DOUBT_HEIGHT, DOUBT_COLOUR)
        x = track.left() + int((self.current + 0.5) * track.width() / self.frame_count)
        painter.setPen(QColor(255, 255, 255))
        painter.drawLine(x, RULER_HEIGHT - 4, x, track.bottom())

    def _paint_ruler(self, painter: QPainter, track: QRect) -> None:
        painter.setPen(QColor(150, 150, 150))
        step = _ruler_step(self.frame_count, track.width())
        for frame in range(0, self.frame_count, step):
            x = track.left() + int(frame * track.width() / self.frame_count)
            painter.drawLine(x, RULER_HEIGHT - 4, x, RULER_HEIGHT)
            painter.drawText(x + 2, RULER_HEIGHT - 3, str(frame))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        position = event.position()
        if position.x() < LABEL_WIDTH:
            row = int((position.y() - RULER_HEIGHT) // ROW_HEIGHT)
            if 0 <= row < len(self.rows):
                self.object_clicked.emit(self.rows[row].object_id)
        elif self.frame_count:
            self.seek.emit(self.frame_at(position.x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton and event.position().x() >= LABEL_WIDTH:
            self.seek.emit(self.frame_at(event.position().x()))


def from_annotation_codes(codes: np.ndarray) -> np.ndarray:
    """Timeline codes of an object's `VideoAnnotation.state_codes`."""
    return _FROM_ANNOTATION[codes]


def bin_states(states: np.ndarray, columns: int) -> np.ndarray:
    """Reduce per-frame codes to `columns` pixel columns, keeping the largest (the most
    important state, or any doubted frame)."""
    count = len(states)
    if count == 0 or columns <= 0:
        return np.zeros(0, dtype=np.uint8)
    starts = (np.arange(columns) * count) // columns
    if count < columns:
        return states[starts]
    return np.maximum.reduceat(states, starts)

def runs(values: np.ndarray) -> list[tuple[int, int, int]]:
    """(value, start, stop) for each run of equal values."""
    if values.size == 0:
        return []
    changes = np.flatnonzero(np.diff(values)) + 1
    starts = np.concatenate(([0], changes))
    stops = np.concatenate((changes, [values.size]))
    return [(int(values[a]), int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def _ruler_step(frames: int, pixels: int) -> int:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000):
        if pixels * step / max(frames, 1) >= 40:
            return step
    return 10000
