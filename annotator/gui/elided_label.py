"""A one-line label that never asks for more width than it is given: text too long for it
ends in "…" and is shown whole in its tooltip, so a long message never moves the layout."""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PyQt6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None,
                 min_chars: int = 8) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self._min_width = self.fontMetrics().averageCharWidth() * min_chars
        self.setText(text)

    def setText(self, text: str | None) -> None:
        super().setText(text or "")
        self._update_tip()

    def _update_tip(self) -> None:
        self.setToolTip(self.text() if self.elided() else "")

    def elided(self) -> bool:
        """Whether the text is too long for the label's width now."""
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def shown_text(self) -> str:
        """The text as drawn (ending in "…" when it does not fit)."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                             self.contentsRect().width())

    def minimumSizeHint(self) -> QSize:
        return QSize(self._min_width, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        return QSize(self._min_width, super().sizeHint().height())

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        self._update_tip()

    def paintEvent(self, event: QPaintEvent | None) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().windowText().color())
        painter.drawText(self.contentsRect(), self.alignment(), self.shown_text())
        painter.end()  # now, not whenever the wrapper is collected
