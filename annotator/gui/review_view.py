"""Review mode in the main window: the Review menu's actions, the review dock, the view beside
the canvas (the ground truth, or the differences, at the same frame, zoom and pan), the
differences on the canvas itself, the marks, "fix here" and the report."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Protocol

import numpy as np
from PyQt6.QtCore import QEvent, QObject, Qt, QTimer
from PyQt6.QtGui import QAction, QActionGroup, QColor, QKeySequence, qRgba
from PyQt6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from annotator.annotation.marks import QAMark, Verdict
from annotator.gui.annotation_rows import colour_table
from annotator.gui.canvas import Canvas
from annotator.gui.controller import Controller
from annotator.gui.file_dialogs import choose_file, choose_folder
from annotator.gui.images import indexed_qimage, overlay_image
from annotator.gui.review_marks import edited_mark
from annotator.gui.review_panel import ReviewPanel, legend_html
from annotator.gui.review_plot import PlotCurve
from annotator.gui.review_series import ReviewSeries
from annotator.gui.review_tasks import ReviewTasks
from annotator.gui.settings import AppSettings
from annotator.gui.shortcuts import REVIEW_SHORTCUTS
from annotator.gui.workers import describe_failure
from annotator.quality.differences import DIFFERENCE_COLOURS, difference_codes

REFRESH_MS = 40  # the views and lists redraw at most this often while masks change
TABLE_ROWS = 500  # the frames list shows the worst this many (of the filter's)
# difference code -> colour, half transparent: the frame stays visible under the marks
DIFFERENCE_TABLE = [qRgba(0, 0, 0, 0)] * 256
for _code, (_r, _g, _b) in DIFFERENCE_COLOURS.items():
    DIFFERENCE_TABLE[_code] = qRgba(_r, _g, _b, 170)
# action name -> menu text; the keys of those that have one are in REVIEW_SHORTCUTS
REVIEW_ACTIONS = {
    "open_prediction": "Open prediction…",
    "open_prediction_json": "Open prediction (LV-VIS results JSON)…",
    "compare": "Compare with ground truth…",
    "overlay": "Overlay",
    "beside": "Side by side with the ground truth",
    "difference_view": "Differences beside",
    "differences": "Differences on the frame",
    "panel": "Review panel",
    "sort": "Sort worst first",
    "rerun": "Score every frame again",
    "next_worst": "Next worst ▶",
    "previous_worst": "◀ Previous worst",
    "mark_accepted": "Accept frame",
    "mark_needs_fix": "Frame needs a fix",
    "next_unreviewed": "Next unreviewed ▶",
    "next_needs_fix": "Next needs fix ▶",
    "fix_here": "Fix here",
    "repropagate": "Re-propagate ▶",
    "report": "Write report…",
    "stop": "Stop comparing",
}
VIEW_ACTIONS = {"overlay": "overlay", "beside": "side", "difference_view": "difference"}
PANEL_TEXT = {"open_prediction": "Prediction…", "compare": "Ground truth…",
              "report": "Report…", "mark_accepted": "✓ Accept", "mark_needs_fix": "✗ Needs fix",
              "previous_worst": "◀", "next_worst": "▶", "sort": "Worst first",
              "next_unreviewed": "Unreviewed ▶", "next_needs_fix": "Needs fix ▶"}


class ReviewHost(Protocol):
    """What the review view follows in the main window: the controller, the canvas and the
    splitter it sits beside, how masks are drawn there, and the choice of tool."""

    controller: Controller
    settings: AppSettings
    canvas: Canvas
    objects_dock: QDockWidget
    views: QSplitter
    opacity_slider: QSlider
    outline_box: QCheckBox
    opacity: float
    outline_only: bool

    def set_tool(self, name: str) -> None: ...


class ReviewView(QObject):
    def __init__(self, window: QMainWindow, host: ReviewHost) -> None:
        super().__init__(window)
        self.window, self.host = window, host
        self.controller = host.controller
        self.review = host.controller.review
        self.checks = self.review.checks
        self.actions: dict[str, QAction] = {}
        self._build_actions()
        self.panel = ReviewPanel(self.actions)
        self.dock = QDockWidget("Review", window)
        self.dock.setObjectName("review")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        # A tab beside the object list: the review list needs the side's whole height to show
        # enough rows (the object list is one click away; Fix here chooses the object itself).
        window.tabifyDockWidget(host.objects_dock, self.dock)
        self.dock.setVisible(False)
        # closed or shown (not: behind the object list's tab)
        self.dock.toggleViewAction().toggled.connect(self.actions["panel"].setChecked)
        self.truth_canvas = Canvas()  # follows the canvas: no scroll bars of its own
        self.truth_canvas.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.truth_canvas.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.truth_title = QLabel("Ground truth")
        self.truth_title.setTextFormat(Qt.TextFormat.PlainText)
        self.truth_legend = QLabel(legend_html())
        self.truth_legend.setTextFormat(Qt.TextFormat.RichText)
        self.truth_box = QWidget()
        layout = QVBoxLayout(self.truth_box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.truth_title)
        layout.addWidget(self.truth_canvas, 1)
        layout.addWidget(self.truth_legend)
        self.truth_box.setVisible(False)
        # scroll bars showing up resize the viewports: the view follows again then
        for canvas in (host.canvas, self.truth_canvas):
            canvas.viewport().installEventFilter(self)
        host.views.addWidget(self.truth_box)
        self.mode = "overlay"
        self.object: int | None = None  # the object reviewed (None: all)
        self.filter = "all"
        self.series = ReviewSeries()
        self.tasks = ReviewTasks(self.controller, self.review, window)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._refresh_views)
        self._lists_timer = QTimer(self)
        self._lists_timer.setSingleShot(True)
        self._lists_timer.setInterval(REFRESH_MS * 5)
        self._lists_timer.timeout.connect(self._refresh_lists)
        self._connect()
        self.panel.set_truth_available(False)
        self._show_legend()
        self._on_video()

    def _build_actions(self) -> None:
        slots = {
            "open_prediction": self.tasks_choose_prediction,
            "open_prediction_json": lambda: self.tasks_choose_prediction(json=True),
            "compare": self.choose_ground_truth,
            "sort": self.review.sort,
            "rerun": self.review.rerun,
            "next_worst": lambda: self.review.next_in_order(1),
            "previous_worst": lambda: self.review.next_in_order(-1),
            "mark_accepted": lambda: self.mark(Verdict.ACCEPTED),
            "mark_needs_fix": lambda: self.mark(Verdict.NEEDS_FIX),
            "next_unreviewed": self.next_unreviewed,
            "next_needs_fix": self.next_needs_fix,
            "fix_here": self.fix_here,
            "repropagate": self.repropagate,
            "report": self.choose_report_folder,
            "stop": self.review.clear,
        }
        group = QActionGroup(self)
        for name, text in REVIEW_ACTIONS.items():
            action = QAction(text, self.window)
            if name in REVIEW_SHORTCUTS:
                key, tip = REVIEW_SHORTCUTS[name]
                action.setShortcut(QKeySequence(key))
                action.setToolTip(f"{tip} ({key})")
            if name in VIEW_ACTIONS:
                action.setCheckable(True)
                group.addAction(action)
                action.toggled.connect(
                    lambda on, mode=VIEW_ACTIONS[name]: on and self.set_mode(mode))
            elif name in ("mark_accepted", "mark_needs_fix"):
                action.setCheckable(True)  # checked: the mark of the frame on screen
                action.triggered.connect(slots[name])
            elif name in ("differences", "panel"):
                action.setCheckable(True)
                action.toggled.connect(self.show_differences if name == "differences"
                                       else self._show_panel)
            else:
                action.triggered.connect(slots[name])
            self.window.addAction(action)
            self.actions[name] = action
        _check_quietly(True, self.actions["overlay"])
        for name, short in PANEL_TEXT.items():
            self.actions[name].setIconText(short)

    def _connect(self) -> None:
        panel, review, checks, c, w = self.panel, self.review, self.checks, self.controller, \
            self.host
        panel.seek.connect(c.set_index)
        panel.seek.connect(review.reached)
        panel.view_mode_changed.connect(self.set_mode)
        panel.object_changed.connect(self.set_object)
        panel.differences_toggled.connect(self.actions["differences"].setChecked)
        panel.filter_changed.connect(self.set_filter)
        panel.marks.comment_edited.connect(self.comment)
        review.started.connect(self._on_started)
        review.progress.connect(panel.show_progress)
        review.updated.connect(self._on_scores)
        review.ordered.connect(self._fill_table)
        review.cleared.connect(self._on_cleared)
        checks.started.connect(self._on_checks_started)
        checks.progress.connect(panel.show_progress)
        checks.updated.connect(self._on_signals)
        c.video_opened.connect(lambda _title: self._on_video())
        c.frame_changed.connect(self._on_frame_changed)
        c.masks_changed.connect(self._refresh_later)
        c.objects_changed.connect(self._on_objects)
        w.opacity_slider.valueChanged.connect(self._refresh_later)
        w.outline_box.toggled.connect(self._refresh_later)
        w.canvas.view_changed.connect(self._follow)

    # ---- view choices --------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        """overlay: the masks on the frame only; side: the ground truth beside it;
        difference: the differences beside it (both need ground truth)."""
        if mode != "overlay" and not self.review.active:
            self.controller.message.emit("Compare with ground truth first "
                                         "(Review > Compare with ground truth…)")
            mode = "overlay"
        self.mode = mode
        name = next(key for key, value in VIEW_ACTIONS.items() if value == mode)
        _check_quietly(True, self.actions[name])
        self.panel.view_mode.blockSignals(True)
        self.panel.set_view_mode(mode)
        self.panel.view_mode.blockSignals(False)
        beside = mode != "overlay"
        if beside and not self.truth_box.isVisible():
            self.truth_box.setVisible(True)
            width = self.host.views.width()
            self.host.views.setSizes([width // 2, width - width // 2])
        self.truth_box.setVisible(beside)
        self.truth_legend.setVisible(mode == "difference")
        self._show_legend()
        self._refresh_views()

    def show_differences(self, on: bool) -> None:
        """Mark the differences with the ground truth on the canvas itself (over the masks)."""
        if on and not self.review.active:
            self.controller.message.emit("Compare with ground truth first to see differences")
            on = False
        _check_quietly(on, self.actions["differences"], self.panel.differences)
        self._show_legend()
        self._refresh_views()

    def _show_legend(self) -> None:
        self.panel.show_legend(self.mode == "difference"
                               or self.actions["differences"].isChecked())

    def set_object(self, object_id: int | None) -> None:
        self.object = object_id
        self._refresh_views()
        self._refresh_lists()
        self._refresh_plot()
        self._fill_table()

    def set_filter(self, name: str) -> None:
        self.filter = name
        self._fill_table()

    def _show_panel(self, on: bool) -> None:
        self.dock.setVisible(on)
        if on:
            self.dock.raise_()

    # ---- ground truth, predictions, report -----------------------------------------------
    def choose_ground_truth(self) -> None:
        path = choose_folder(self.window, self.host.settings,
                             "Ground truth: a folder of <frame>.png, or a dataset root")
        if path:
            self.compare(path)

    def compare(self, path: str) -> bool:
        """Compare the open video with the ground truth in `path` and show the review."""
        if not self.review.compare(path):
            return False
        self.show_panel()
        return True

    def show_panel(self) -> None:
        if not self.dock.isVisible():
            self.dock.setVisible(True)
            objects = self.window.findChild(QDockWidget, "objects")
            if objects is not None:  # the review gets the larger share of the side
                height = self.window.centralWidget().height()
                self.window.resizeDocks([objects, self.dock], [height * 1 // 3, height * 2 // 3],
                                        Qt.Orientation.Vertical)
        self.dock.raise_()

    def tasks_choose_prediction(self, json: bool = False) -> None:
        if json:
            path = choose_file(self.window, self.host.settings, "LV-VIS / YouTube-VIS results",
                               "JSON (*.json)")
        else:
            path = choose_folder(self.window, self.host.settings,
                                 "Prediction: a folder of <frame>.png, or a dataset root")
        if path:
            self.open_prediction(path)

    def open_prediction(self, path: str) -> bool:
        """Open the masks at `path` next to the frames, in a review copy (see
        `annotator.engine.review_copy`); the ground truth follows."""
        started = self.tasks.open_prediction(Path(path))
        if started:
            self.show_panel()
        return started

    def choose_report_folder(self) -> None:
        path = choose_folder(self.window, self.host.settings, "Folder for the review report")
        if path:
            self.write_report(Path(path))

    def write_report(self, folder: Path) -> bool:
        """Write the HTML / CSV report and the overlay video of the open video into `folder`
        (in a worker)."""
        return self.tasks.write_report(folder)

    # ---- marks ---------------------------------------------------------------------------
    def mark(self, verdict: Verdict) -> None:
        """Give the frame on screen `verdict` (the one it has: remove it)."""
        index = self.controller.index
        self._set_mark(index, edited_mark(self._mark(index), verdict, None))

    def comment(self, index: int, text: str) -> None:
        """The comment on frame `index` (typed while it was on screen)."""
        current = self._mark(index)
        if text != (current.comment if current is not None else ""):
            self._set_mark(index, edited_mark(current, None, text))

    def _mark(self, index: int) -> QAMark | None:
        annotation = self.controller.annotation
        return None if annotation is None else annotation.marks.get(index)

    def _set_mark(self, index: int, mark: QAMark | None) -> None:
        annotation = self.controller.annotation
        if annotation is None or not 0 <= index < len(annotation):
            return
        annotation.set_mark(index, mark)
        review = self.review
        self.panel.update_rows([index], review.rows, self.checks.signals, annotation.marks)
        self._refresh_marks()

    def next_unreviewed(self) -> None:
        """The next frame without a mark, in review order (worst first) from this one."""
        annotation = self.controller.annotation
        if annotation is None:
            return
        order = self.review.order or list(range(len(annotation)))
        start = order.index(self.controller.index) + 1 if self.controller.index in order else 0
        for index in order[start:] + order[:start]:
            if index not in annotation.marks:
                self.controller.set_index(index)
                return
        self.controller.message.emit("Every frame is marked")

    def next_needs_fix(self) -> None:
        """The next frame marked as needing a fix, in frame order (from the start again)."""
        annotation = self.controller.annotation
        if annotation is None:
            return
        frames = sorted(i for i, m in annotation.marks.items() if m.verdict is Verdict.NEEDS_FIX)
        if not frames:
            self.controller.message.emit("No frame is marked as needing a fix")
            return
        later = [i for i in frames if i > self.controller.index]
        self.controller.set_index(later[0] if later else frames[0])

    def _refresh_marks(self) -> None:
        annotation = self.controller.annotation
        marks = annotation.marks if annotation is not None else {}
        counts = Counter(mark.verdict for mark in marks.values())
        total = len(annotation) if annotation is not None else 0
        self.panel.marks.show_counts(counts[Verdict.ACCEPTED], counts[Verdict.NEEDS_FIX],
                                     total - len(marks))
        self.panel.marks.show_mark(self.controller.index, marks.get(self.controller.index))
        self._refresh_plot()

    # ---- fix here ------------------------------------------------------------------------
    def fix_here(self) -> None:
        """Ready the tools to correct this frame: the object reviewed (else the worst one
        here) selected, the brush chosen, the canvas focused."""
        c = self.controller
        if c.annotation is None:
            return
        target = self.object if self.object is not None else self._worst_object(c.index)
        if target is not None and target in c.annotation.objects:
            c.select_object(target)
        self.host.set_tool("brush")
        self.host.canvas.setFocus()
        c.message.emit(f"Fix frame {c.frame_name(c.index)}"
                       + (f", object {c.current_object}" if c.current_object else "")
                       + ": brush (B), eraser (E) or clicks (C); then Re-propagate ▶")

    def _worst_object(self, index: int) -> int | None:
        row = self.review.row(index)
        if row is not None and row.object_ids:
            return min(zip(row.jf, row.object_ids, strict=True))[1]
        signals = self.checks.signals.get(index)
        if signals is not None and signals.flags:
            return signals.flags[0].object_id
        return self.controller.current_object

    def repropagate(self) -> None:
        """Propagate forward from this frame (the object reviewed, else every object)."""
        self.controller.propagate("forward", [self.object] if self.object is not None else None)

    # ---- refresh -------------------------------------------------------------------------
    def _on_video(self) -> None:
        annotation = self.controller.annotation
        self.series.reset(len(annotation) if annotation is not None else 0)
        self._on_objects()
        self._fill_table()
        self._refresh_lists()
        self._refresh_marks()
        self._refresh_summary()
        self._refresh_views()

    def _on_objects(self) -> None:
        annotation = self.controller.annotation
        ids = sorted(set(annotation.objects if annotation is not None else ())
                     | set(self.review.object_ids))
        self.panel.set_objects(ids)
        self._refresh_later()

    def _on_started(self) -> None:
        truth = self.review.truth
        assert truth is not None
        self.panel.set_truth_available(True)
        self.series.clear_scores()
        self.panel.show_progress(0, len(truth.names))
        self._refresh_summary(f"scoring {len(truth.names)} frames…")
        self._fill_table()
        self._refresh_views()

    def _on_checks_started(self) -> None:
        annotation = self.controller.annotation
        self.panel.show_progress(0, len(annotation) if annotation is not None else 1)

    def _on_scores(self, indices: frozenset[int]) -> None:
        review = self.review
        if indices:
            self.series.set_scores(review.rows[i] for i in indices if i in review.rows)
            self._update_rows(indices)
        else:
            self.series.clear_scores()
            self.series.set_scores(review.rows.values())
            self.panel.show_progress(1, 1)
            self._on_objects()
        self._refresh_plot()
        self._refresh_summary()
        self._refresh_title()

    def _on_signals(self, indices: frozenset[int]) -> None:
        checks = self.checks
        if indices:
            flagged_before = any(i in self.series.flags for i in indices)
            self.series.set_signals(checks.signals[i] for i in indices if i in checks.signals)
            self._update_rows(indices)
            if flagged_before or any(i in self.series.flags for i in indices):
                self._lists_later()  # the flags list changes
        else:
            self.series.rebuild(self.series.frame_count, self.review.rows, checks.signals)
            self._refresh_lists()
        self._refresh_plot()
        self._refresh_summary()

    def _update_rows(self, indices: frozenset[int]) -> None:
        annotation = self.controller.annotation
        self.panel.update_rows(indices, self.review.rows, self.checks.signals,
                               annotation.marks if annotation is not None else {})

    def _on_cleared(self) -> None:
        self.panel.set_truth_available(False)
        _check_quietly(False, self.actions["differences"])
        self._show_legend()
        self.series.clear_scores()
        self.set_mode("overlay")
        self.panel.show_progress(1, 1)
        self._fill_table()
        self._refresh_plot()
        self._refresh_summary()

    def _fill_table(self) -> None:
        """The frames list: the review order (worst first), filtered, its first TABLE_ROWS."""
        annotation = self.controller.annotation
        if annotation is None:
            self.panel.set_rows([], {}, {}, {}, (), self.review.active)
            return
        marks, signals = annotation.marks, self.checks.signals
        keep = {
            "all": lambda i: True,
            "flagged": lambda i: i in signals and any(
                self.object in (None, f.object_id) for f in signals[i].flags),
            "unreviewed": lambda i: i not in marks,
            "needs_fix": lambda i: i in marks and marks[i].verdict is Verdict.NEEDS_FIX,
            "accepted": lambda i: i in marks and marks[i].verdict is Verdict.ACCEPTED,
        }[self.filter]
        shown = [i for i in self.review.order if keep(i)][:TABLE_ROWS]
        self.panel.set_rows(shown, self.review.rows, signals, marks, self.review.object_ids,
                            self.review.active)
        self.panel.select_frame(self.controller.index, scroll=False)

    def _lists_later(self) -> None:
        if not self._lists_timer.isActive():
            self._lists_timer.start()

    def _refresh_lists(self) -> None:
        """The flags list (in frame order; of the object reviewed)."""
        annotation = self.controller.annotation
        if annotation is None:
            self.panel.set_flags([], [])
            return
        flags = [flag for index in sorted(self.checks.signals)
                 for flag in self.checks.signals[index].flags
                 if self.object in (None, flag.object_id)]
        self.panel.set_flags(flags, annotation.frame_names)

    def _refresh_summary(self, doing: str = "") -> None:
        """Two lines: the ground truth and its score; the flags (the full source in the
        tooltip)."""
        review, checks = self.review, self.checks
        truth = review.truth
        if truth is not None:
            mean = review.mean_jf
            score = doing or (f"mean J&F {mean:.3f} over {len(review.rows)} frames"
                              if mean is not None else "")
            first = f"Ground truth: {truth.source.name} ({len(truth.names)} frames) · {score}"
            self.panel.summary.setToolTip(truth.describe())
        else:
            first = "No ground truth (Review > Compare…): the flags show where to look"
            self.panel.summary.setToolTip("")
        series = self.series
        second = (f"{series.flag_total} flags on {len(series.flags)} frames"
                  + (" (checking…)" if checks.busy else ""))
        self.panel.set_summary(f"{first}\n{second}")

    def _refresh_plot(self) -> None:
        annotation, c = self.controller.annotation, self.controller
        if annotation is None:
            self.panel.plot.set_data("", 0, [], [], {})
            return
        ids = [self.object] if self.object is not None else sorted(
            set(self.series.jf) | set(self.series.iou) | set(self.series.confidence))
        curves = []
        colours = colour_table(annotation)
        for object_id in ids:
            colour = QColor(*(int(v) for v in colours[object_id]))
            if self.review.active:
                if object_id in self.series.jf:
                    curves.append(PlotCurve("J&F", colour, self.series.jf[object_id]))
                continue
            if object_id in self.series.confidence:
                curves.append(PlotCurve("confidence", colour,
                                        self.series.confidence[object_id]))
            if object_id in self.series.iou:
                curves.append(PlotCurve("IoU with the frame before", colour,
                                        self.series.iou[object_id], dashed=True))
        who = "every object" if self.object is None else f"object {self.object}"
        title = f"J&F per frame, {who}" if self.review.active else f"{who}, no ground truth"
        self.panel.plot.set_data(title, len(annotation), curves,
                                 self.series.flagged_frames(self.object),
                                 {i: m.verdict for i, m in annotation.marks.items()})
        self.panel.plot.set_current(c.index)

    def _on_frame_changed(self, index: int) -> None:
        self.panel.select_frame(index)
        annotation = self.controller.annotation
        self.panel.marks.show_mark(index, annotation.marks.get(index) if annotation else None)
        self._refresh_views()

    def _refresh_later(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _refresh_views(self) -> None:
        """The differences on the canvas, and the view beside it, for the current frame."""
        c = self.controller
        truth, current = None, c.labels()
        if self.review.active and current is not None:
            try:
                truth = self.review.ground_truth(c.index)
            except Exception as exc:  # an unreadable PNG: say which
                c.error.emit(describe_failure(exc))
        codes = None
        if truth is not None and current is not None and (
                self.mode == "difference" or self.actions["differences"].isChecked()):
            codes = difference_codes(current, truth, self.object)
        marks = codes is not None and self.actions["differences"].isChecked()
        self.host.canvas.set_marks(indexed_qimage(codes, DIFFERENCE_TABLE) if marks
                                   and codes is not None else None)
        if self.truth_box.isVisible():
            self._draw_beside(truth, codes)
        self._refresh_title()

    def _draw_beside(self, truth: np.ndarray | None, codes: np.ndarray | None) -> None:
        c, w = self.controller, self.host
        frame = c.frame()
        if frame is None:
            return
        self.truth_canvas.set_frame(frame)
        if truth is None:
            self.truth_canvas.set_overlay(None)
        elif self.mode == "difference" and codes is not None:
            self.truth_canvas.set_overlay(None, indexed_qimage(codes, DIFFERENCE_TABLE))
        else:
            hidden = set(c.hidden)
            if self.object is not None:
                hidden |= set(range(1, 255)) - {self.object}
            self.truth_canvas.set_overlay(
                overlay_image(truth, colour_table(c.annotation), w.opacity, hidden,
                              w.outline_only))
        self._follow()

    def _refresh_title(self) -> None:
        c, review = self.controller, self.review
        what = "Differences" if self.mode == "difference" else "Ground truth"
        if not review.active:
            self.truth_title.setText("Ground truth: none chosen (Review > Compare…)")
            return
        if c.annotation is None or not review.has_truth(c.index):
            self.truth_title.setText(f"{what}: none for frame {c.index + 1}")
            return
        row = review.row(c.index)
        score = "scoring…" if row is None else \
            f"J&F {row.mean_jf:.3f} (J {row.mean_j:.3f}, F {row.mean_f:.3f})"
        self.truth_title.setText(f"{what}, frame {c.frame_name(c.index)}: {score}")

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if event is not None and event.type() == QEvent.Type.Resize \
                and self.truth_box.isVisible():
            QTimer.singleShot(0, self._follow)
        return False

    def _follow(self) -> None:
        if self.truth_box.isVisible():
            self.truth_canvas.follow(self.host.canvas)


def _check_quietly(on: bool, *widgets: QAction | QWidget) -> None:
    """Set checkable actions and boxes without their signals (they mirror each other)."""
    for widget in widgets:
        widget.blockSignals(True)
        widget.setChecked(on)  # type: ignore[union-attr]
        widget.blockSignals(False)
