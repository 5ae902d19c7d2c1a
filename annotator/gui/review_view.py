"""Review mode in the main window: the Review menu's actions, the review dock, and the
ground-truth view beside the canvas (same frame, same zoom and pan)."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from PyQt6.QtCore import QEvent, QObject, Qt, QTimer
from PyQt6.QtGui import QAction, QKeySequence, qRgba
from PyQt6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from annotator.gui.annotation_rows import colour_table
from annotator.gui.canvas import Canvas
from annotator.gui.controller import Controller
from annotator.gui.images import indexed_qimage, overlay_image
from annotator.gui.review_panel import ReviewPanel
from annotator.gui.shortcuts import REVIEW_SHORTCUTS
from annotator.gui.workers import describe_failure
from models.protocols import VOID

REFRESH_MS = 40  # the ground-truth view redraws at most this often while masks change
# 1: a true object pixel the masks miss or give another object (magenta); 2: a background pixel
# the masks claim (cyan). Half transparent: the truth stays visible under the marks.
DIFFERENCE_COLOURS = [qRgba(0, 0, 0, 0), qRgba(255, 0, 255, 170), qRgba(0, 255, 255, 170)] \
    + [0] * 253
# action name -> menu text; the keys of those that have one are in REVIEW_SHORTCUTS
REVIEW_ACTIONS = {
    "compare": "Compare with ground truth…",
    "beside": "Ground truth beside",
    "differences": "Mark differences on the ground truth",
    "panel": "Review panel",
    "sort": "Sort frames worst first",
    "rerun": "Score every frame again",
    "next_worst": "Next frame in review order",
    "previous_worst": "Previous frame in review order",
    "stop": "Stop comparing",
}


class ReviewHost(Protocol):
    """What the review view follows in the main window: the controller, the canvas and the
    splitter it sits beside, and how masks are drawn there."""

    controller: Controller
    canvas: Canvas
    views: QSplitter
    opacity_slider: QSlider
    outline_box: QCheckBox
    opacity: float
    outline_only: bool


class ReviewView(QObject):
    def __init__(self, window: QMainWindow, host: ReviewHost) -> None:
        super().__init__(window)
        self.window, self.host = window, host
        self.controller = host.controller
        self.review = host.controller.review
        self.panel = ReviewPanel()
        self.dock = QDockWidget("Review", window)
        self.dock.setObjectName("review")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.setVisible(False)
        self.truth_canvas = Canvas()  # follows the canvas: no scroll bars of its own
        self.truth_canvas.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.truth_canvas.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.truth_title = QLabel("Ground truth")
        self.truth_title.setTextFormat(Qt.TextFormat.PlainText)
        self.truth_box = QWidget()
        layout = QVBoxLayout(self.truth_box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.truth_title)
        layout.addWidget(self.truth_canvas, 1)
        self.truth_box.setVisible(False)
        # scroll bars showing up resize the viewports: the view follows again then
        for canvas in (host.canvas, self.truth_canvas):
            canvas.viewport().installEventFilter(self)
        host.views.addWidget(self.truth_box)
        self.actions: dict[str, QAction] = {}
        self._build_actions()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh_truth)
        self._connect()

    def _build_actions(self) -> None:
        toggles = {"beside": self.show_beside, "differences": self.mark_differences,
                   "panel": self.dock.setVisible}
        slots = {
            "compare": self.choose_ground_truth,
            "sort": self.review.sort,
            "rerun": self.review.rerun,
            "next_worst": lambda: self.review.next_in_order(self.controller.index, 1),
            "previous_worst": lambda: self.review.next_in_order(self.controller.index, -1),
            "stop": self.review.clear,
        }
        for name, text in REVIEW_ACTIONS.items():
            action = QAction(text, self.window)
            if name in REVIEW_SHORTCUTS:
                action.setShortcut(QKeySequence(REVIEW_SHORTCUTS[name][0]))
            if name in toggles:
                action.setCheckable(True)
                action.toggled.connect(toggles[name])
            else:
                action.triggered.connect(slots[name])
            self.window.addAction(action)
            self.actions[name] = action
        self.dock.visibilityChanged.connect(self.actions["panel"].setChecked)

    def _connect(self) -> None:
        panel, review, c, w = self.panel, self.review, self.controller, self.host
        panel.seek.connect(c.set_index)
        panel.compare_requested.connect(self.choose_ground_truth)
        panel.sort_requested.connect(review.sort)
        panel.beside_toggled.connect(self.actions["beside"].setChecked)
        panel.differences_toggled.connect(self.actions["differences"].setChecked)
        review.started.connect(self._on_started)
        review.progress.connect(panel.show_progress)
        review.updated.connect(self._on_updated)
        review.cleared.connect(self._on_cleared)
        c.frame_changed.connect(self._on_frame_changed)
        c.masks_changed.connect(self._refresh_later)
        c.objects_changed.connect(self._refresh_later)
        w.opacity_slider.valueChanged.connect(self._refresh_later)
        w.outline_box.toggled.connect(self._refresh_later)
        w.canvas.view_changed.connect(self._follow)

    # ---- actions -------------------------------------------------------------------------
    def choose_ground_truth(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self.window, "Ground truth: a folder of <frame>.png, or a dataset root")
        if path:
            self.compare(path)

    def compare(self, path: str) -> bool:
        """Compare the open video with the ground truth in `path` and show the review."""
        if not self.review.compare(path):
            return False
        if not self.dock.isVisible():
            self.dock.setVisible(True)
            objects = self.window.findChild(QDockWidget, "objects")
            if objects is not None:  # the frames list gets the larger share of the side
                height = self.window.centralWidget().height()
                self.window.resizeDocks([objects, self.dock], [height * 2 // 5, height * 3 // 5],
                                        Qt.Orientation.Vertical)
        self.dock.raise_()
        return True

    def show_beside(self, on: bool) -> None:
        """Show or hide the ground-truth view beside the canvas."""
        _check_quietly(on, self.actions["beside"], self.panel.beside)
        self.truth_box.setVisible(on)
        if on:
            width = self.host.views.width()
            self.host.views.setSizes([width // 2, width - width // 2])
            self.refresh_truth()

    def mark_differences(self, on: bool) -> None:
        """Mark, on the ground-truth view, the pixels where the masks and the truth differ
        (void left out): magenta where the truth has an object, cyan where it has background.
        The view is shown when it was not."""
        _check_quietly(on, self.actions["differences"], self.panel.differences)
        if on and not self.truth_box.isVisible():
            self.actions["beside"].setChecked(True)
        self.refresh_truth()

    # ---- refresh -------------------------------------------------------------------------
    def _on_started(self) -> None:
        truth = self.review.truth
        self.panel.set_rows([], {}, ())
        self.panel.show_progress(0, len(truth.paths))
        self.panel.set_summary(f"Ground truth: {truth.folder}\nscoring {len(truth.paths)} "
                               "frames…")
        self.refresh_truth()

    def _on_updated(self, indices: frozenset[int]) -> None:
        review = self.review
        if indices:
            self.panel.update_rows(review.rows[i] for i in indices if i in review.rows)
        else:
            self.panel.set_rows(review.order, review.rows, review.object_ids)
            self.panel.show_progress(1, 1)
        self.panel.select_frame(self.controller.index)
        mean = review.mean_jf
        scored = f"mean J&F {mean:.3f} over {len(review.rows)} frames" if mean is not None \
            else "no frame scored"
        self.panel.set_summary(f"Ground truth: {review.truth.folder}\n{scored}; "
                               f"objects {', '.join(map(str, review.object_ids)) or 'none'}")
        self._refresh_title()

    def _on_cleared(self) -> None:
        self.panel.set_rows([], {}, ())
        self.panel.show_progress(1, 1)
        self.panel.set_summary("No ground truth: Review > Compare with ground truth…")
        self.refresh_truth()

    def _on_frame_changed(self, index: int) -> None:
        self.panel.select_frame(index)
        self.refresh_truth()

    def _refresh_later(self) -> None:
        if self.truth_box.isVisible() and not self._timer.isActive():
            self._timer.start()

    def refresh_truth(self) -> None:
        """Draw the ground truth of the current frame in the view beside the canvas."""
        if not self.truth_box.isVisible():
            return
        c, w = self.controller, self.host
        frame = c.frame()
        if frame is None:
            return
        self.truth_canvas.set_frame(frame)
        labels = None
        if self.review.active:
            try:
                labels = self.review.ground_truth(c.index)
            except Exception as exc:  # an unreadable PNG: say which
                c.error.emit(describe_failure(exc))
        if labels is None:
            self.truth_canvas.set_overlay(None)
        else:
            differences = None
            current = c.labels()
            if self.actions["differences"].isChecked() and current is not None:
                wrong = (labels != current) & (labels != VOID)
                marks = np.where(wrong, np.where(labels == 0, 2, 1), 0).astype(np.uint8)
                differences = indexed_qimage(marks, DIFFERENCE_COLOURS)
            self.truth_canvas.set_overlay(
                overlay_image(labels, colour_table(c.annotation), w.opacity, c.hidden,
                              w.outline_only),
                differences)
        self._refresh_title()
        self._follow()

    def _refresh_title(self) -> None:
        c, review = self.controller, self.review
        if not review.active:
            self.truth_title.setText("Ground truth: none chosen (Review > Compare…)")
            return
        if c.annotation is None or not review.has_truth(c.index):
            self.truth_title.setText(f"Ground truth: none for frame {c.index + 1}")
            return
        row = review.row(c.index)
        score = "scoring…" if row is None else \
            f"J&F {row.mean_jf:.3f} (J {row.mean_j:.3f}, F {row.mean_f:.3f})"
        self.truth_title.setText(f"Ground truth, frame {c.frame_name(c.index)}: {score}")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Resize and self.truth_box.isVisible():
            QTimer.singleShot(0, self._follow)
        return False

    def _follow(self) -> None:
        if self.truth_box.isVisible():
            self.truth_canvas.follow(self.host.canvas)


def _check_quietly(on: bool, *widgets: QAction | QWidget) -> None:
    """Set checkable actions and boxes without their signals (they mirror each other)."""
    for widget in widgets:
        widget.blockSignals(True)
        widget.setChecked(on)
        widget.blockSignals(False)
