"""The status bar: engines, a passing message, the cursor, saving, and the progress of a long
job with its rate and time left. Long texts end in "…" (whole in their tooltips) and the
progress text always has room, so nothing here widens the window or clips mid-word."""

from __future__ import annotations

from PyQt6.QtCore import QTimer, pyqtSignal
from PyQt6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar, QWidget

from annotator.gui.elided_label import ElidedLabel
from annotator.gui.progress_text import ProgressText

BAR_WIDTH = 90


class StatusBar(QStatusBar):
    cancel_requested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine_label = ElidedLabel("engines: loading…", min_chars=12)
        self.message_label = ElidedLabel("", min_chars=8)
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        # a bound method, not a lambda: Qt drops the connection when the bar is destroyed
        self._message_timer.timeout.connect(self._clear_message)
        self.cursor_label = QLabel("")
        self.cursor_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("x 8888, y 8888"))
        self.save_label = ElidedLabel("", min_chars=14)
        self.save_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("saved 88:88:88 "))
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(BAR_WIDTH)
        self.progress_label = QLabel("")  # as wide as its longest text of the job
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self._job: ProgressText | None = None
        self._cancellable = False
        self.addWidget(self.engine_label, 2)
        self.addWidget(self.message_label, 3)
        for widget in (self.cursor_label, self.save_label, self.progress,
                       self.progress_label, self.cancel_button):
            self.addPermanentWidget(widget)
        self.hide_progress()

    def show_message(self, text: str, timeout_ms: int) -> None:
        self.message_label.setText(text)
        self._message_timer.start(timeout_ms)

    def _clear_message(self) -> None:
        self.message_label.setText("")

    def begin(self, what: str, total: int, cancellable: bool) -> None:
        """A long job starts: its progress shows from now on, with rate and time left."""
        self._job = ProgressText(what)
        self._cancellable = cancellable
        self.report(0, total)

    def report(self, done: int, total: int) -> None:
        if self._job is not None:
            self.show_progress(self._job(done, total), done, total, self._cancellable)

    def end(self) -> None:
        self._job = None
        self.hide_progress()

    def show_progress(self, text: str, done: int, total: int, cancellable: bool) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(min(done, max(1, total)))
        self.progress_label.setText(text)
        width = self.progress_label.fontMetrics().horizontalAdvance(text) + 8
        self.progress_label.setMinimumWidth(max(width, self.progress_label.minimumWidth()))
        for widget in (self.progress, self.progress_label):
            widget.setVisible(True)
        self.cancel_button.setVisible(cancellable)

    def hide_progress(self) -> None:
        self.progress_label.setMinimumWidth(0)
        for widget in (self.progress, self.progress_label, self.cancel_button):
            widget.setVisible(False)
