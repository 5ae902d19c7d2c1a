"""The review plot: per-frame curves of the objects shown (J&F with ground truth; without it,
the propagator's confidence and the IoU with the frame before), flagged frames ticked in red
along the bottom, marked frames along the top, the current frame as a line. A click shows that
frame. Drawn with QPainter, one point per pixel column at most (the lowest of its frames)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PyQt6.QtWidgets import QSizePolicy, QWidget

from annotator.annotation.marks import Verdict
from annotator.quality.series import column_minimum

MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 30, 8, 24, 14
TEXT_HEIGHT = 16  # title and legend; the marks' ticks below them
VERDICT_COLOURS = {Verdict.ACCEPTED: QColor(60, 180, 75), Verdict.NEEDS_FIX: QColor(245, 130, 48)}


@dataclass(frozen=True)
class PlotCurve:
    """One line: legend text, colour, a value (0..1, NaN: none) per frame, dashed or not."""

    label: str
    colour: QColor
    values: np.ndarray
    dashed: bool = False


class FramePlot(QWidget):
    seek = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(90)  # legible, and leaves the frames list its rows in a short window
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click a point to show that frame")
        self.title = ""
        self.frame_count = 0
        self.curves: Sequence[PlotCurve] = ()
        self.flagged: Sequence[int] = ()
        self.marks: Mapping[int, Verdict] = {}
        self.current = 0

    def set_data(self, title: str, frame_count: int, curves: Sequence[PlotCurve],
                 flagged: Sequence[int], marks: Mapping[int, Verdict]) -> None:
        self.title, self.frame_count, self.curves = title, frame_count, curves
        self.setToolTip(f"{title}\nClick a point to show that frame")  # the title may be cut
        self.flagged, self.marks = flagged, marks
        self.update()

    def set_current(self, index: int) -> None:
        if index != self.current:
            self.current = index
            self.update()

    # ---- geometry ------------------------------------------------------------------------
    def _inner(self) -> QRectF:
        return QRectF(MARGIN_LEFT, MARGIN_TOP, max(1, self.width() - MARGIN_LEFT - MARGIN_RIGHT),
                      max(1, self.height() - MARGIN_TOP - MARGIN_BOTTOM))

    def x_of(self, frame: float) -> float:
        inner = self._inner()
        return inner.left() + inner.width() * frame / max(1, self.frame_count - 1)

    def frame_at(self, x: float) -> int:
        inner = self._inner()
        frame = round((x - inner.left()) / inner.width() * max(1, self.frame_count - 1))
        return min(max(0, frame), max(0, self.frame_count - 1))

    # ---- drawing -------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent | None) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        inner = self._inner()
        painter.fillRect(self.rect(), self.palette().base())
        painter.setPen(QColor(200, 200, 200))
        for value in (0.0, 0.5, 1.0):
            y = inner.bottom() - inner.height() * value
            painter.drawLine(QPointF(inner.left(), y), QPointF(inner.right(), y))
            painter.drawText(QRectF(0, y - 7, MARGIN_LEFT - 4, 14),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"{value:.1f}")
        legend_left = self._draw_legend(painter, inner) if self.frame_count else inner.right()
        painter.setPen(self.palette().text().color())
        room = max(0, int(legend_left - 8 - MARGIN_LEFT))  # the title never runs under the legend
        title = painter.fontMetrics().elidedText(self.title, Qt.TextElideMode.ElideRight, room)
        painter.drawText(QRectF(MARGIN_LEFT, 0, room, TEXT_HEIGHT),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
        if self.frame_count == 0:
            return
        columns = max(1, int(inner.width()))
        for curve in self.curves:
            self._draw_curve(painter, curve, columns, inner)
        for frame in self.flagged:
            x = self.x_of(frame)
            painter.fillRect(QRectF(x - 1, inner.bottom() + 2, 2, 8), QColor(220, 30, 30))
        for frame, verdict in self.marks.items():
            x = self.x_of(frame)
            painter.fillRect(QRectF(x - 1.5, inner.top() - 6, 3, 5), VERDICT_COLOURS[verdict])
        painter.setPen(QPen(QColor(40, 110, 230), 1))
        x = self.x_of(self.current)
        painter.drawLine(QPointF(x, inner.top()), QPointF(x, inner.bottom()))

    def _draw_curve(self, painter: QPainter, curve: PlotCurve, columns: int,
                    inner: QRectF) -> None:
        positions, values = column_minimum(curve.values, columns)
        pen = QPen(curve.colour, 1.6)
        if curve.dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        run = QPolygonF()
        for position, value in zip(positions.tolist(), values.tolist(), strict=True):
            if value != value:  # NaN: a gap
                self._flush(painter, run, curve.colour)
                run = QPolygonF()
                continue
            y = inner.bottom() - inner.height() * max(0.0, min(1.0, value))
            run.append(QPointF(self.x_of(position), y))
        self._flush(painter, run, curve.colour)

    @staticmethod
    def _flush(painter: QPainter, run: QPolygonF, colour: QColor) -> None:
        if run.size() == 1:
            painter.setBrush(colour)
            painter.drawEllipse(run.at(0), 2.0, 2.0)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        elif run.size() > 1:
            painter.drawPolyline(run)

    def _draw_legend(self, painter: QPainter, inner: QRectF) -> float:
        """Each curve's style and label, from the right end of the title line; returns where
        the legend begins."""
        right = inner.right()
        metrics = painter.fontMetrics()
        seen: set[tuple[str, bool]] = set()
        for curve in self.curves:
            if (curve.label, curve.dashed) in seen:
                continue
            seen.add((curve.label, curve.dashed))
            width = metrics.horizontalAdvance(curve.label)
            right -= width + 24
            shared = sum(c.label == curve.label and c.dashed == curve.dashed
                         for c in self.curves) > 1  # several objects: the style is the key
            pen = QPen(self.palette().text().color() if shared else curve.colour, 2)
            if curve.dashed:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(QPointF(right, TEXT_HEIGHT / 2), QPointF(right + 16, TEXT_HEIGHT / 2))
            painter.setPen(self.palette().text().color())
            painter.drawText(QPointF(right + 19, TEXT_HEIGHT - 4), curve.label)
        return right

    # ---- input ---------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent | None) -> None:
        if event is not None and event.button() == Qt.MouseButton.LeftButton \
                and self.frame_count:
            self.seek.emit(self.frame_at(event.position().x()))
