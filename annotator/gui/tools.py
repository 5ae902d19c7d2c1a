"""Canvas tools: SAM clicks and box, brush, eraser, polygon. Each turns mouse input into a call
on the controller; none of them changes the annotation itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt

if TYPE_CHECKING:
    from annotator.gui.canvas import Canvas
    from annotator.gui.controller import Controller

DRAG_THRESHOLD = 4.0  # image pixels a press must travel to become a box


class ClickTool:
    """Left click adds a positive point, right click a negative one; a left drag draws a box."""

    name = "click"

    def __init__(self, controller: Controller, canvas: Canvas) -> None:
        self.controller, self.canvas = controller, canvas
        self._start: QPointF | None = None

    def press(self, point: QPointF, button: Qt.MouseButton) -> None:
        if button == Qt.MouseButton.LeftButton:
            self._start = point
        elif button == Qt.MouseButton.RightButton:
            self.controller.click(point.x(), point.y(), positive=False)

    def move(self, point: QPointF, buttons: Qt.MouseButton) -> None:
        if self._start is not None and _distance(self._start, point) >= DRAG_THRESHOLD:
            self.canvas.show_box(QRectF(self._start, point))

    def release(self, point: QPointF, button: Qt.MouseButton) -> None:
        if button != Qt.MouseButton.LeftButton or self._start is None:
            return
        start, self._start = self._start, None
        self.canvas.show_box(None)
        if _distance(start, point) >= DRAG_THRESHOLD:
            rect = QRectF(start, point).normalized()
            self.controller.box(rect.left(), rect.top(), rect.right(), rect.bottom())
        else:
            self.controller.click(point.x(), point.y(), positive=True)

    def double_click(self, point: QPointF) -> None:
        """A double click arrives after its first click was already taken as a point."""

    def cancel(self) -> None:
        self._start = None
        self.canvas.show_box(None)


class BrushTool:
    """Paints (or erases) a round brush along the drag; the stroke lands on release."""

    def __init__(self, controller: Controller, canvas: Canvas, erase: bool) -> None:
        self.controller, self.canvas, self.erase = controller, canvas, erase
        self.name = "eraser" if erase else "brush"
        self.size = 15
        self._stroke: np.ndarray | None = None
        self._last: tuple[int, int] | None = None

    def press(self, point: QPointF, button: Qt.MouseButton) -> None:
        if button != Qt.MouseButton.LeftButton:
            return
        height, width = self.controller.frame_size()
        self._stroke = np.zeros((height, width), dtype=np.uint8)
        self._last = None
        self._extend(point)

    def move(self, point: QPointF, buttons: Qt.MouseButton) -> None:
        self.canvas.show_brush(point, self.size)
        if self._stroke is not None and buttons & Qt.MouseButton.LeftButton:
            self._extend(point)

    def release(self, point: QPointF, button: Qt.MouseButton) -> None:
        if button != Qt.MouseButton.LeftButton or self._stroke is None:
            return
        stroke, self._stroke = self._stroke.astype(bool), None
        self.canvas.set_stroke(None)
        if self.erase:
            self.controller.erase(stroke)
        else:
            self.controller.paint(stroke)

    def double_click(self, point: QPointF) -> None:
        """Strokes are drawn by dragging; a double click adds nothing."""

    def cancel(self) -> None:
        self._stroke = None
        self.canvas.set_stroke(None)
        self.canvas.show_brush(None, self.size)

    def _extend(self, point: QPointF) -> None:
        assert self._stroke is not None
        here = (round(point.x()), round(point.y()))
        radius = max(1, self.size // 2)
        if self._last is None:
            cv2.circle(self._stroke, here, radius, 1, thickness=-1)
        else:
            cv2.line(self._stroke, self._last, here, 1, thickness=2 * radius + 1)
        self._last = here
        self.canvas.set_stroke(self._preview(self._stroke))

    def _preview(self, stroke: np.ndarray) -> np.ndarray:
        rgba = np.zeros((*stroke.shape, 4), dtype=np.uint8)
        inside = stroke > 0
        if self.erase:
            rgba[inside] = (255, 255, 255, 110)
        else:
            rgba[inside, :3] = self.controller.object_colour(self.controller.current_object)
            rgba[inside, 3] = 170
        return rgba


class PolygonTool:
    """Left clicks place vertices; a double click (or Enter) closes and fills; right click undoes
    the last vertex."""

    name = "polygon"

    def __init__(self, controller: Controller, canvas: Canvas) -> None:
        self.controller, self.canvas = controller, canvas
        self.points: list[QPointF] = []

    def press(self, point: QPointF, button: Qt.MouseButton) -> None:
        if button == Qt.MouseButton.LeftButton:
            self.points.append(point)
        elif button == Qt.MouseButton.RightButton and self.points:
            self.points.pop()
        self.canvas.show_polygon(self.points)

    def move(self, point: QPointF, buttons: Qt.MouseButton) -> None:
        if self.points:
            self.canvas.show_polygon(self.points, point)

    def release(self, point: QPointF, button: Qt.MouseButton) -> None:
        """Vertices are placed on press."""

    def double_click(self, point: QPointF) -> None:
        self.close()

    def close(self) -> None:
        points, self.points = self.points, []
        self.canvas.show_polygon([])
        if len(points) < 3:
            return
        height, width = self.controller.frame_size()
        mask = np.zeros((height, width), dtype=np.uint8)
        vertices = np.array([[p.x(), p.y()] for p in points], dtype=np.float64)
        cv2.fillPoly(mask, [np.round(vertices).astype(np.int32)], 1)
        self.controller.paint(mask.astype(bool), "polygon")

    def cancel(self) -> None:
        self.points = []
        self.canvas.show_polygon([])


def _distance(a: QPointF, b: QPointF) -> float:
    return float(np.hypot(a.x() - b.x(), a.y() - b.y()))
