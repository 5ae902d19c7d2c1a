"""The frame view: frame, mask overlay and tool previews; zoom to the cursor, pan, fit."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PyQt6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

from annotator.gui.images import frame_to_qimage, rgba_to_qimage

ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 0.05, 40.0


class CanvasTool(Protocol):
    """What a tool receives from the canvas, in image pixel coordinates."""

    def press(self, point: QPointF, button: Qt.MouseButton) -> None: ...

    def move(self, point: QPointF, buttons: Qt.MouseButton) -> None: ...

    def release(self, point: QPointF, button: Qt.MouseButton) -> None: ...

    def double_click(self, point: QPointF) -> None: ...

    def cancel(self) -> None:
        """Drop what is being drawn (another tool was chosen, or Escape)."""


class Canvas(QGraphicsView):
    """Shows one frame and its masks; forwards mouse input to the active tool."""

    cursor_moved = pyqtSignal(int, int)
    view_changed = pyqtSignal()  # zoom, pan or fit: a view beside this one follows

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setBackgroundBrush(QBrush(QColor(32, 32, 36)))
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.tool: CanvasTool | None = None
        self._frame_item = QGraphicsPixmapItem()
        self._overlay_item = QGraphicsPixmapItem()
        self._rim_item = QGraphicsPixmapItem()
        self._candidate_item = QGraphicsPixmapItem()
        self._stroke_item = QGraphicsPixmapItem()
        for z, item in enumerate(
            (self._frame_item, self._overlay_item, self._rim_item, self._candidate_item,
             self._stroke_item)
        ):
            item.setZValue(z)
            self.scene().addItem(item)
        self._marks_item = QGraphicsPixmapItem()  # review marks: over the masks and their rim
        self._marks_item.setZValue(2.5)
        self._marks_item.setVisible(False)
        self.scene().addItem(self._marks_item)
        self._box_item = QGraphicsRectItem()  # the box being dragged
        self._box_item.setPen(_cosmetic_pen(QColor(255, 255, 0), dashed=True))
        self._prompt_item = QGraphicsRectItem()  # the box the candidates were asked with
        self._prompt_item.setPen(_cosmetic_pen(QColor(255, 255, 0), dashed=True))
        self._polygon_item = QGraphicsPathItem()
        self._polygon_item.setPen(_cosmetic_pen(QColor(0, 255, 255)))
        self._brush_item = QGraphicsEllipseItem()
        self._brush_item.setPen(_cosmetic_pen(QColor(255, 255, 255)))
        self._clicks_item = QGraphicsPathItem()
        for z, item in enumerate(
            (self._prompt_item, self._box_item, self._polygon_item, self._clicks_item,
             self._brush_item), start=10
        ):
            item.setZValue(z)
            item.setVisible(False)
            self.scene().addItem(item)
        self._image_size: tuple[int, int] | None = None
        self._panning: QPointF | None = None
        self._fitted = True
        self._space_held = False
        self.horizontalScrollBar().valueChanged.connect(self.view_changed)
        self.verticalScrollBar().valueChanged.connect(self.view_changed)

    # ---- content -------------------------------------------------------------------------
    def set_frame(self, frame: np.ndarray) -> None:
        height, width = frame.shape[:2]
        self._frame_item.setPixmap(QPixmap.fromImage(frame_to_qimage(frame)))
        if self._image_size != (height, width):
            self._image_size = (height, width)
            self.scene().setSceneRect(QRectF(0, 0, width, height))
            self.fit()

    def set_overlay(self, image: QImage | None, rim: QImage | None = None) -> None:
        """The masks, and a rim around the selected object."""
        for item, layer in ((self._overlay_item, image), (self._rim_item, rim)):
            item.setVisible(layer is not None)
            if layer is not None:
                item.setPixmap(QPixmap.fromImage(layer))

    def overlay_image(self) -> QImage:
        """The mask overlay as drawn (non-premultiplied RGBA), for checks and screenshots."""
        return self._overlay_item.pixmap().toImage().convertToFormat(
            QImage.Format.Format_RGBA8888)

    def rim_layer_image(self) -> QImage | None:
        """The layer drawn over the masks (a rim, or marks), as drawn; None when hidden."""
        if not self._rim_item.isVisible():
            return None
        return self._rim_item.pixmap().toImage().convertToFormat(QImage.Format.Format_RGBA8888)

    def set_marks(self, image: QImage | None) -> None:
        """Marks over the masks (the review's differences); None hides them."""
        self._marks_item.setVisible(image is not None)
        if image is not None:
            self._marks_item.setPixmap(QPixmap.fromImage(image))

    def marks_layer_image(self) -> QImage | None:
        """The review marks as drawn; None when hidden."""
        if not self._marks_item.isVisible():
            return None
        return self._marks_item.pixmap().toImage().convertToFormat(
            QImage.Format.Format_RGBA8888)

    def set_candidate(self, rgba: np.ndarray | None) -> None:
        self._set_rgba(self._candidate_item, rgba)

    def set_stroke(self, rgba: np.ndarray | None) -> None:
        self._set_rgba(self._stroke_item, rgba)

    @staticmethod
    def _set_rgba(item: QGraphicsPixmapItem, rgba: np.ndarray | None) -> None:
        if rgba is None:
            item.setVisible(False)
            return
        item.setPixmap(QPixmap.fromImage(rgba_to_qimage(rgba)))
        item.setVisible(True)

    def show_box(self, rect: QRectF | None) -> None:
        self._box_item.setVisible(rect is not None)
        if rect is not None:
            self._box_item.setRect(rect.normalized())

    def show_prompt_box(self, box: tuple[float, float, float, float] | None) -> None:
        """The box the current candidates were asked with (x0, y0, x1, y1), kept in view."""
        self._prompt_item.setVisible(box is not None)
        if box is not None:
            x0, y0, x1, y1 = box
            self._prompt_item.setRect(QRectF(QPointF(x0, y0), QPointF(x1, y1)).normalized())

    def prompt_box(self) -> QRectF | None:
        """The prompt box shown (None when hidden), for checks."""
        return self._prompt_item.rect() if self._prompt_item.isVisible() else None

    def set_busy(self, busy: bool) -> None:
        """A busy cursor over the frame while a click computes (clicks still land)."""
        if busy:
            self.viewport().setCursor(Qt.CursorShape.BusyCursor)
        elif self._panning is None and not self._space_held:
            self.viewport().unsetCursor()

    def show_polygon(self, points: list[QPointF], cursor: QPointF | None = None) -> None:
        path = QPainterPath()
        if points:
            path.moveTo(points[0])
            for point in points[1:]:
                path.lineTo(point)
            if cursor is not None:
                path.lineTo(cursor)
        self._polygon_item.setPath(path)
        self._polygon_item.setVisible(bool(points))

    def show_clicks(self, clicks: list[tuple[float, float, bool]]) -> None:
        """Dots where the person clicked: green for positive, red for negative."""
        for child in self._clicks_item.childItems():
            self.scene().removeItem(child)
        scale = max(self.transform().m11(), 1e-6)
        radius = 5.0 / scale
        for x, y, positive in clicks:
            dot = QGraphicsEllipseItem(x - radius, y - radius, 2 * radius, 2 * radius,
                                       self._clicks_item)
            dot.setBrush(QBrush(QColor(40, 220, 60) if positive else QColor(230, 40, 40)))
            dot.setPen(_cosmetic_pen(QColor(255, 255, 255)))
        self._clicks_item.setVisible(bool(clicks))

    def show_brush(self, point: QPointF | None, size: int) -> None:
        self._brush_item.setVisible(point is not None)
        if point is not None:
            r = size / 2
            self._brush_item.setRect(point.x() - r, point.y() - r, size, size)

    # ---- view ----------------------------------------------------------------------------
    def follow(self, other: Canvas) -> None:
        """Show the same scale and the same image point at the centre as `other` (or fit
        when `other` is fitted)."""
        if self._image_size is None:
            return
        if other._fitted:
            self.fit()
            return
        self._fitted = False
        self.setTransform(other.transform())
        self.centerOn(other.mapToScene(other.viewport().rect().center()))

    def fit(self) -> None:
        """Show the whole frame; it stays fitted as the window resizes until a zoom or pan."""
        self._fitted = True
        if self._image_size is not None:
            self.resetTransform()
            self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
            self.view_changed.emit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fitted:
            self.fit()

    def zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        """Scale by `factor` keeping the image point under `anchor` (viewport pixels; default
        the centre) where it is."""
        scale = self.transform().m11() * factor
        if not MIN_SCALE <= scale <= MAX_SCALE:
            return
        if anchor is None:
            anchor = QPointF(self.viewport().rect().center())
        fixed = self.mapToScene(anchor.toPoint())
        self._fitted = False
        self.scale(factor, factor)
        moved = self.mapFromScene(fixed) - anchor.toPoint()
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + moved.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + moved.y())
        self.view_changed.emit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom(ZOOM_STEP**steps, event.position())
        event.accept()

    # ---- input ---------------------------------------------------------------------------
    def image_point(self, event: QMouseEvent) -> QPointF:
        return self.mapToScene(event.position().toPoint())

    def _starts_pan(self, event: QMouseEvent) -> bool:
        return event.button() == Qt.MouseButton.MiddleButton or (
            self._space_held and event.button() == Qt.MouseButton.LeftButton
        )

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._starts_pan(event):
            self._panning = event.position()
            self._fitted = False
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif self.tool is not None and self._image_size is not None:
            self.tool.press(self.image_point(event), event.button())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._panning is not None:
            delta = event.position() - self._panning
            self._panning = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
        else:
            point = self.image_point(event)
            self.cursor_moved.emit(int(point.x()), int(point.y()))
            if self.tool is not None and self._image_size is not None:
                self.tool.move(point, event.buttons())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._panning is not None and (
            event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton)
        ):
            self._panning = None
            self.unsetCursor()
        elif self.tool is not None and self._image_size is not None:
            self.tool.release(self.image_point(event), event.button())
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.tool is not None and event.button() == Qt.MouseButton.LeftButton:
            self.tool.double_click(self.image_point(event))
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.unsetCursor()
            event.accept()
            return
        super().keyReleaseEvent(event)


def _cosmetic_pen(colour: QColor, dashed: bool = False) -> QPen:
    pen = QPen(colour)
    pen.setCosmetic(True)
    pen.setWidth(2)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    return pen
