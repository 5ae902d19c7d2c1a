"""The row under the canvas: first / previous keyframe / previous / play / next / next keyframe
/ last, the frame slider and the frame number (type one and press Return to go there). Compact,
so the slider keeps its room in a narrow window."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox, QWidget

BUTTON_WIDTH = 34
SLIDER_MIN_WIDTH = 160
# button text, tip (with its key), controller slot name
BUTTONS = (
    ("|◀", "First frame (Home)", "first_frame"),
    ("◀◆", "Previous keyframe (Ctrl+Left)", "previous_keyframe"),
    ("◀", "Previous frame (Left)", "previous_frame"),
    (None, None, "play"),
    ("▶", "Next frame (Right)", "next_frame"),
    ("◆▶", "Next keyframe (Ctrl+Right)", "next_keyframe"),
    ("▶|", "Last frame (End)", "last_frame"),
)


class FrameControls(QWidget):
    seek = pyqtSignal(int)  # a frame index chosen on the slider or typed

    def __init__(self, slots: dict[str, Callable[[], object]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.buttons: dict[str, QPushButton] = {}
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play / pause (P)")
        self.play_button.setFixedWidth(self.play_button.fontMetrics().horizontalAdvance("Pause")
                                       + 20)
        for text, tip, name in BUTTONS:
            if text is None:
                layout.addWidget(self.play_button)
                continue
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setFixedWidth(BUTTON_WIDTH)
            button.clicked.connect(lambda _=False, slot=slots[name]: slot())
            layout.addWidget(button)
            self.buttons[name] = button
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setMinimumWidth(SLIDER_MIN_WIDTH)
        self.slider.valueChanged.connect(self.seek)
        self.number = QSpinBox()
        self.number.setRange(1, 1)
        self.number.setKeyboardTracking(False)  # go there on Return, not at every digit
        self.number.setToolTip("Frame number: type one and press Return to go there (Ctrl+G)")
        self.number.setButtonSymbols(QSpinBox.ButtonSymbols.NoButtons)
        self.number.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.number.valueChanged.connect(lambda value: self.seek.emit(value - 1))
        self.total = QLabel("no video")
        self.total.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.number)
        layout.addWidget(self.total)

    def set_count(self, count: int) -> None:
        for widget, top in ((self.slider, max(0, count - 1)), (self.number, max(1, count))):
            widget.blockSignals(True)
            widget.setRange(widget.minimum(), top)
            widget.blockSignals(False)
        digits = len(str(max(1, count)))
        self.number.setFixedWidth(self.number.fontMetrics().horizontalAdvance("8" * digits) + 16)
        self.total.setFixedWidth(self.total.fontMetrics().horizontalAdvance(
            f"/ {count}  " + "0" * 9))

    def show_frame(self, index: int, count: int, name: str) -> None:
        for widget, value in ((self.slider, index), (self.number, index + 1)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        text = f"/ {count}  {name}"
        metrics = self.total.fontMetrics()
        self.total.setText(metrics.elidedText(text, Qt.TextElideMode.ElideMiddle,
                                              self.total.width()))
        self.total.setToolTip(text)

    def focus_number(self) -> None:
        """Ctrl+G: the frame number, selected, ready for another."""
        self.number.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.number.selectAll()
