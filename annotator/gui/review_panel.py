"""The review dock: every frame scored against ground truth, worst J&F first, with J, F and
J&F per object; a click on a row shows that frame."""

from __future__ import annotations

from collections.abc import Iterable

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from annotator.engine.review import FrameReview

FIXED_COLUMNS = ("Frame", "J&F", "J", "F")
INDEX_ROLE = Qt.ItemDataRole.UserRole


def score_colour(score: float) -> QColor:
    """Red for 0, through yellow, to green for 1."""
    return QColor.fromHsvF(max(0.0, min(1.0, score)) / 3, 0.45, 0.95)


class ReviewPanel(QWidget):
    seek = pyqtSignal(int)
    compare_requested = pyqtSignal()
    sort_requested = pyqtSignal()
    beside_toggled = pyqtSignal(bool)
    differences_toggled = pyqtSignal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel("No ground truth yet: Review > Compare with ground truth…")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress.setFormat("scoring %v / %m")
        self.table = QTableWidget(0, len(FIXED_COLUMNS))
        self.table.setHorizontalHeaderLabels(FIXED_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.currentCellChanged.connect(self._on_current)
        self.table.cellClicked.connect(lambda row, column: self._on_current(row, column, -1, -1))
        compare = QPushButton("Compare…")
        compare.setToolTip("Choose the ground truth: a folder of <frame>.png or a dataset root")
        compare.clicked.connect(self.compare_requested)
        resort = QPushButton("Sort worst first")
        resort.setToolTip("Order the frames by their current J&F again")
        resort.clicked.connect(self.sort_requested)
        self.beside = QCheckBox("Ground truth beside")
        self.beside.toggled.connect(self.beside_toggled)
        self.differences = QCheckBox("Mark differences")
        self.differences.setToolTip("On the ground truth, mark the pixels where the masks differ")
        self.differences.toggled.connect(self.differences_toggled)
        buttons = QHBoxLayout()
        buttons.addWidget(compare)
        buttons.addWidget(resort)
        toggles = QHBoxLayout()
        toggles.addWidget(self.beside)
        toggles.addWidget(self.differences)
        toggles.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.summary)
        layout.addWidget(self.progress)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addLayout(toggles)
        self._row_of: dict[int, int] = {}  # frame index -> table row
        self._object_ids: tuple[int, ...] = ()

    # ---- content -------------------------------------------------------------------------
    def set_rows(self, order: list[int], rows: dict[int, FrameReview],
                 object_ids: tuple[int, ...]) -> None:
        """All rows, in `order` (frame indices); frames without a score yet show dashes."""
        self._object_ids = object_ids
        table = self.table
        table.blockSignals(True)
        table.clearContents()
        headers = list(FIXED_COLUMNS) + [f"J&F {i}" for i in object_ids]
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        for i, object_id in enumerate(object_ids, len(FIXED_COLUMNS)):
            table.horizontalHeaderItem(i).setToolTip(f"J&F of object {object_id}")
        table.setRowCount(len(order))
        self._row_of = {index: row for row, index in enumerate(order)}
        for row, index in enumerate(order):
            self._fill(row, index, rows.get(index))
        table.blockSignals(False)

    def update_rows(self, rows: Iterable[FrameReview]) -> None:
        """New scores for some frames, each in its row (rows keep their place)."""
        self.table.blockSignals(True)
        for review in rows:
            if review.index in self._row_of:
                self._fill(self._row_of[review.index], review.index, review)
        self.table.blockSignals(False)

    def _fill(self, row: int, index: int, review: FrameReview | None) -> None:
        frame = QTableWidgetItem(review.name if review is not None else str(index))
        frame.setData(INDEX_ROLE, index)
        frame.setToolTip(f"frame {index + 1}")
        self.table.setItem(row, 0, frame)
        if review is None:
            values: list[float | None] = [None] * (3 + len(self._object_ids))
            tips = [""] * len(values)
        else:
            values = [review.mean_jf, review.mean_j, review.mean_f, *review.jf]
            tips = ["mean over objects"] * 3 + [
                f"object {o}: J {j:.3f}, F {f:.3f}"
                for o, j, f in zip(review.object_ids, review.j, review.f, strict=True)
            ]
        for column, (value, tip) in enumerate(zip(values, tips, strict=True), 1):
            item = QTableWidgetItem("–" if value is None else f"{value:.3f}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(tip)
            if value is not None:
                item.setBackground(score_colour(value))
                item.setForeground(QColor(0, 0, 0))
            self.table.setItem(row, column, item)

    def frame_at(self, row: int) -> int | None:
        item = self.table.item(row, 0)
        return None if item is None else int(item.data(INDEX_ROLE))

    def cell_text(self, index: int, column: str) -> str:
        """The text shown for frame `index` in `column` (a header such as "J&F")."""
        headers = [self.table.horizontalHeaderItem(i).text()
                   for i in range(self.table.columnCount())]
        return self.table.item(self._row_of[index], headers.index(column)).text()

    def select_frame(self, index: int) -> None:
        """Highlight the row of frame `index` without seeking."""
        row = self._row_of.get(index)
        self.table.blockSignals(True)
        if row is None:
            self.table.clearSelection()
        else:
            self.table.setCurrentCell(row, 0)
            self.table.scrollToItem(self.table.item(row, 0))
        self.table.blockSignals(False)

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
