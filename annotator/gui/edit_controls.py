"""The controls under the object list: candidate masks (and whether one is being computed),
protection of what is annotated, brush size, overlay look, and whether a propagation carries
only the selected objects. Texts that change never change the panel's width."""

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

from annotator.gui.elided_label import ElidedLabel

CANDIDATES = 3  # a click segmenter offers at most this many masks
PROTECT_TIP = ("On: a new mask, a brush stroke or a new object's propagation takes only "
               "background; the pixels of other objects stay theirs. Off: they may take any "
               "pixel.")


class EditControls(QWidget):
    candidate_chosen = pyqtSignal(int)
    accept_clicked = pyqtSignal()

    def __init__(self, opacity_percent: int, brush: int, protect: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.candidate_label = ElidedLabel("Click an object", min_chars=12)
        self.candidate_label.setToolTip("The candidate masks of the clicks on this frame, and "
                                        "the score the segmenter gives the one shown")
        self.candidate_buttons = [
            small_button(str(i + 1), f"Show candidate mask {i + 1} (Tab: the next one)",
                         lambda i=i: self.candidate_chosen.emit(i), width=26)
            for i in range(CANDIDATES)
        ]
        accept = small_button("Accept", "Accept the candidate (Return)", self.accept_clicked.emit)
        self.brush_size = QSpinBox()
        self.brush_size.setRange(1, 200)
        self.brush_size.setValue(brush)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(opacity_percent)
        self.outline = QCheckBox("Outline")
        self.protect = QCheckBox("Protect other objects")
        self.protect.setChecked(protect)
        self.protect.setToolTip(PROTECT_TIP)
        self.propagate_selected = QCheckBox("Propagate only the selected objects")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(_row(self.candidate_label, *self.candidate_buttons, accept, stretch=0))
        layout.addWidget(self.protect)
        layout.addLayout(_row(QLabel("Brush"), self.brush_size, QLabel("Opacity"), self.opacity,
                              self.outline, stretch=3))
        layout.addWidget(self.propagate_selected)

    def show_candidates(self, count: int, chosen: int, text: str) -> None:
        """The candidates' line (elided to the panel's width) and buttons."""
        self.candidate_label.setText(text)
        for i, button in enumerate(self.candidate_buttons):
            button.setEnabled(i < count)
            button.setDown(i == chosen and count > 0)


def small_button(text: str, tip: str, slot: Callable[[], object],
                 width: int | None = None) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    if width is None:
        button.setMaximumWidth(60)
    else:
        button.setFixedWidth(width)
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
