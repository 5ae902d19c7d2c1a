"""The controls under the object list: candidate masks, brush size, overlay look, and whether a
propagation carries only the selected objects."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

CANDIDATES = 3  # a click segmenter offers at most this many masks


class EditControls(QWidget):
    candidate_chosen = pyqtSignal(int)
    accept_clicked = pyqtSignal()

    def __init__(self, opacity_percent: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.candidate_label = QLabel("Candidates: none")
        self.candidate_buttons = [
            small_button(str(i + 1), f"Show candidate mask {i + 1}",
                         lambda i=i: self.candidate_chosen.emit(i))
            for i in range(CANDIDATES)
        ]
        accept = small_button("Accept", "Accept the candidate (Return)", self.accept_clicked.emit)
        self.brush_size = QSpinBox()
        self.brush_size.setRange(1, 200)
        self.brush_size.setValue(15)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(opacity_percent)
        self.outline = QCheckBox("Outline")
        self.propagate_selected = QCheckBox("Propagate only the selected objects")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(_row(self.candidate_label, *self.candidate_buttons, accept, stretch=0))
        layout.addLayout(_row(QLabel("Brush size"), self.brush_size, stretch=None))
        layout.addLayout(_row(QLabel("Opacity"), self.opacity, self.outline, stretch=1))
        layout.addWidget(self.propagate_selected)

    def show_candidates(self, count: int, chosen: int, text: str) -> None:
        self.candidate_label.setText(text)
        for i, button in enumerate(self.candidate_buttons):
            button.setEnabled(i < count)
            button.setDown(i == chosen and count > 0)


def small_button(text: str, tip: str, slot: Callable[[], object]) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    button.setMaximumWidth(60)
    button.clicked.connect(lambda _=False: slot())
    return button


def _row(*widgets: QWidget, stretch: int | None) -> QHBoxLayout:
    """Widgets in a row; the one at index `stretch` takes the room (None: a gap at the end)."""
    row = QHBoxLayout()
    row.setContentsMargins(4, 0, 4, 0)
    for index, widget in enumerate(widgets):
        row.addWidget(widget, 1 if index == stretch else 0)
    if stretch is None:
        row.addStretch(1)
    return row
