"""The review dock: how the frame is shown (overlay, side by side, differences; all objects or
one), the per-frame plot, the frames worst first (J, F and J&F per object with ground truth;
flags and marks always) with a filter, the flags with their reasons, the marks, and the
buttons that open a prediction, choose the ground truth, fix a frame and write the report. A
click on a row, a flag or the plot shows that frame."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QAction, QColor
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from annotator.annotation.marks import QAMark
from annotator.engine.review import FrameReview
from annotator.gui.review_marks import MarkBar, action_button, button_grid
from annotator.gui.review_plot import FramePlot
from annotator.quality.differences import DIFFERENCE_COLOURS, DIFFERENCE_NAMES, EXTRA, MISSED
from annotator.quality.flags import Flag, FrameSignals

TRUTH_COLUMNS = ("Frame", "J&F", "J", "F")
CHECK_COLUMNS = ("Frame", "Lowest")  # without ground truth: the lowest confidence or IoU
TAIL_COLUMNS = ("Mark", "Flags")
INDEX_ROLE = Qt.ItemDataRole.UserRole
VIEW_MODES = {"overlay": "Overlay", "side": "Side by side", "difference": "Differences"}
FILTERS = {"all": "All frames", "flagged": "Flagged", "unreviewed": "Unreviewed",
           "needs_fix": "Needs fix", "accepted": "Accepted"}
FLAGS_SHOWN = 1000  # rows of the flags list (a long video may have more; the report has all)


def score_colour(score: float) -> QColor:
    """Red for 0, through yellow, to green for 1."""
    return QColor.fromHsvF(max(0.0, min(1.0, score)) / 3, 0.45, 0.95)


def legend_html() -> str:
    """The two difference colours and what they mean."""
    def swatch(code: int) -> str:
        r, g, b = DIFFERENCE_COLOURS[code]
        return (f"<span style='background-color: rgb({r},{g},{b})'>&nbsp;&nbsp;&nbsp;</span>"
                f"&nbsp;{DIFFERENCE_NAMES[code].split(':')[0]}")
    return f"{swatch(MISSED)} &nbsp; {swatch(EXTRA)}"


class ReviewPanel(QWidget):
    seek = pyqtSignal(int)
    view_mode_changed = pyqtSignal(str)
    object_changed = pyqtSignal(object)  # int, or None for every object
    differences_toggled = pyqtSignal(bool)
    filter_changed = pyqtSignal(str)

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel("No ground truth: the flags say which frames to look at. "
                              "Review > Compare with ground truth… scores them.")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress.setFormat("%v / %m")
        self.view_mode = QComboBox()
        for key, text in VIEW_MODES.items():
            self.view_mode.addItem(text, key)
        self.view_mode.setToolTip("Overlay: the masks on the frame. Side by side: the ground "
                                  "truth beside it. Differences: where they differ, beside it")
        self.view_mode.currentIndexChanged.connect(
            lambda: self.view_mode_changed.emit(self.view_mode.currentData()))
        self.object = QComboBox()
        self.object.setToolTip("Differences, plot and lists for every object or one")
        self.object.currentIndexChanged.connect(
            lambda: self.object_changed.emit(self.object.currentData()))
        self.differences = QCheckBox("Differences on the frame")
        self.differences.setToolTip("Mark the differences with the ground truth on the frame "
                                    "itself, over the masks")
        self.differences.toggled.connect(self.differences_toggled)
        self.legend = QLabel(legend_html())
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.plot = FramePlot()
        self.plot.seek.connect(self.seek)
        self.filter = QComboBox()
        for key, text in FILTERS.items():
            self.filter.addItem(text, key)
        self.filter.currentIndexChanged.connect(
            lambda: self.filter_changed.emit(self.filter.currentData()))
        self.table = _table(TRUTH_COLUMNS + TAIL_COLUMNS)
        self.table.currentCellChanged.connect(self._on_current)
        self.table.cellClicked.connect(lambda row, column: self._on_current(row, column, -1, -1))
        self.flags = _table(("Frame", "Object", "Reason"))
        self.flags.cellClicked.connect(self._on_flag)
        self.tabs = QTabWidget()
        frames_tab = QWidget()
        frames_layout = QVBoxLayout(frames_tab)
        frames_layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Show"))
        row.addWidget(self.filter, 1)
        for name in ("previous_worst", "next_worst", "sort"):
            row.addWidget(action_button(actions[name]))
        frames_layout.addLayout(row)
        frames_layout.addWidget(self.table, 1)
        self.tabs.addTab(frames_tab, "Worst frames")
        self.tabs.addTab(self.flags, "Flags")
        self.marks = MarkBar(actions)
        views = QGridLayout()  # narrow: the side panel shares the window with the frame
        for column, (label, widget) in enumerate((("View", self.view_mode),
                                                  ("Objects", self.object))):
            views.addWidget(QLabel(label), 0, 2 * column)
            views.addWidget(widget, 0, 2 * column + 1)
        views.addWidget(self.differences, 1, 0, 1, 4)
        views.setColumnStretch(1, 1)
        views.setColumnStretch(3, 1)
        buttons = button_grid(actions, ("open_prediction", "compare", "report", "fix_here",
                                        "repropagate"), columns=3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.summary)
        layout.addWidget(self.progress)
        layout.addLayout(views)
        layout.addWidget(self.legend)
        layout.addWidget(self.plot)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.marks)
        layout.addLayout(buttons)
        self._row_of: dict[int, int] = {}  # frame index -> table row
        self._object_ids: tuple[int, ...] = ()
        self._with_truth = True

    # ---- choices -------------------------------------------------------------------------
    def set_objects(self, object_ids: Iterable[int]) -> None:
        """The objects to choose from (the choice is kept when the object still exists)."""
        chosen = self.object.currentData()
        self.object.blockSignals(True)
        self.object.clear()
        self.object.addItem("All", None)
        for object_id in object_ids:
            self.object.addItem(f"Object {object_id}", object_id)
        at = self.object.findData(chosen)
        self.object.setCurrentIndex(max(0, at))
        self.object.blockSignals(False)
        if at < 0 and chosen is not None:
            self.object_changed.emit(None)

    def set_truth_available(self, available: bool) -> None:
        """Side by side, differences and their box need ground truth: off and disabled
        without it (a ticked box that shows nothing helps nobody)."""
        model = self.view_mode.model()
        for key in ("side", "difference"):
            item = model.item(self.view_mode.findData(key))  # type: ignore[attr-defined]
            item.setEnabled(available)
        if not available:
            self.differences.setChecked(False)
            if self.view_mode.currentData() != "overlay":
                self.view_mode.setCurrentIndex(self.view_mode.findData("overlay"))
        self.differences.setEnabled(available)

    def show_legend(self, on: bool) -> None:
        """The colours' legend, while differences are shown."""
        self.legend.setVisible(on)

    def set_view_mode(self, mode: str) -> None:
        self.view_mode.setCurrentIndex(self.view_mode.findData(mode))

    # ---- the frames table ----------------------------------------------------------------
    def set_rows(self, order: list[int], rows: Mapping[int, FrameReview],
                 signals: Mapping[int, FrameSignals], marks: Mapping[int, QAMark],
                 object_ids: tuple[int, ...], with_truth: bool) -> None:
        """The frames `order` in that order; frames without a score yet show dashes."""
        self._object_ids, self._with_truth = object_ids, with_truth
        table = self.table
        table.blockSignals(True)
        table.clearContents()
        head = TRUTH_COLUMNS + tuple(f"J&F {i}" for i in object_ids) if with_truth \
            else CHECK_COLUMNS
        headers = head + TAIL_COLUMNS
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        for i, object_id in enumerate(object_ids, len(TRUTH_COLUMNS)):
            if with_truth:
                table.horizontalHeaderItem(i).setToolTip(f"J&F of object {object_id}")
        table.setRowCount(len(order))
        self._row_of = {index: row for row, index in enumerate(order)}
        for row, index in enumerate(order):
            self._fill(row, index, rows.get(index), signals.get(index), marks.get(index))
        table.blockSignals(False)
        table.scrollToTop()  # worst first: the top is what to see

    def update_rows(self, indices: Iterable[int], rows: Mapping[int, FrameReview],
                    signals: Mapping[int, FrameSignals], marks: Mapping[int, QAMark]) -> None:
        """New scores, flags or marks for some frames, each in its row (rows keep their
        place)."""
        self.table.blockSignals(True)
        for index in indices:
            if index in self._row_of:
                self._fill(self._row_of[index], index, rows.get(index), signals.get(index),
                           marks.get(index))
        self.table.blockSignals(False)

    def _fill(self, row: int, index: int, review: FrameReview | None,
              signals: FrameSignals | None, mark: QAMark | None) -> None:
        name = review.name if review is not None else signals.name if signals else str(index)
        frame = QTableWidgetItem(name)
        frame.setData(INDEX_ROLE, index)
        frame.setToolTip(f"frame {index + 1}")
        self.table.setItem(row, 0, frame)
        values: list[tuple[float | None, str]]
        if not self._with_truth:
            values = [(signals.score if signals is not None else None,
                       "the lowest confidence or IoU with the frame before")]
        elif review is None:
            values = [(None, "")] * (3 + len(self._object_ids))
        else:
            values = [(review.mean_jf, "mean over objects"), (review.mean_j, "mean over objects"),
                      (review.mean_f, "mean over objects")] + [
                ((j + f) / 2, f"object {o}: J {j:.3f}, F {f:.3f}")
                for o, j, f in zip(review.object_ids, review.j, review.f, strict=True)]
        for column, (value, tip) in enumerate(values, 1):
            item = QTableWidgetItem("–" if value is None else f"{value:.3f}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(tip)
            if value is not None:
                item.setBackground(score_colour(value))
                item.setForeground(QColor(0, 0, 0))
            self.table.setItem(row, column, item)
        item = QTableWidgetItem("" if mark is None else mark.verdict.label)
        item.setToolTip("" if mark is None else mark.comment)
        self.table.setItem(row, len(values) + 1, item)
        flags = signals.flags if signals is not None else ()
        kinds = sorted({flag.kind.value for flag in flags})
        item = QTableWidgetItem(", ".join(kinds))
        item.setToolTip("\n".join(f"object {f.object_id}: {f.text}" for f in flags))
        if flags:
            item.setForeground(QColor(200, 30, 30))
        self.table.setItem(row, len(values) + 2, item)

    def frame_at(self, row: int) -> int | None:
        item = self.table.item(row, 0)
        return None if item is None else int(item.data(INDEX_ROLE))

    def cell_text(self, index: int, column: str) -> str:
        """The text shown for frame `index` in `column` (a header such as "J&F")."""
        headers = [self.table.horizontalHeaderItem(i).text()
                   for i in range(self.table.columnCount())]
        return self.table.item(self._row_of[index], headers.index(column)).text()

    def select_frame(self, index: int, scroll: bool = True) -> None:
        """Highlight the row of frame `index` without seeking (scrolled into view unless
        not `scroll`)."""
        row = self._row_of.get(index)
        self.table.blockSignals(True)
        if row is None:
            self.table.clearSelection()
        else:
            self.table.setCurrentCell(row, 0)
            if scroll:
                self.table.scrollToItem(self.table.item(row, 0))
            else:
                self.table.scrollToTop()
        self.table.blockSignals(False)
        self.plot.set_current(index)

    # ---- the flags list ------------------------------------------------------------------
    def set_flags(self, flags: list[Flag], names: list[str]) -> None:
        """Every flag (the first FLAGS_SHOWN), in frame order, with its reason."""
        shown = flags[:FLAGS_SHOWN]
        self.flags.setRowCount(len(shown))
        for row, flag in enumerate(shown):
            frame = QTableWidgetItem(names[flag.index])
            frame.setData(INDEX_ROLE, flag.index)
            self.flags.setItem(row, 0, frame)
            self.flags.setItem(row, 1, QTableWidgetItem(str(flag.object_id)))
            reason = QTableWidgetItem(flag.text)
            reason.setToolTip(reason.text())
            self.flags.setItem(row, 2, reason)
        more = f" (first {FLAGS_SHOWN})" if len(flags) > FLAGS_SHOWN else ""
        self.tabs.setTabText(1, f"Flags ({len(flags)}){more}")

    def _on_flag(self, row: int, _column: int) -> None:
        item = self.flags.item(row, 0)
        if item is not None:
            self.seek.emit(int(item.data(INDEX_ROLE)))

    # ---- the rest ------------------------------------------------------------------------
    def show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setVisible(done < total)

    def set_summary(self, text: str) -> None:
        self.summary.setText(text)

    def _on_current(self, row: int, _column: int, _old_row: int, _old_column: int) -> None:
        index = self.frame_at(row) if row >= 0 else None
        if index is not None:
            self.seek.emit(index)


def _table(headers: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.setWordWrap(False)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 6)
    return table
