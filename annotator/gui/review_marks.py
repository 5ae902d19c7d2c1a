"""The review marks of the frame on screen: accept it, or say it needs a fix (with a comment),
the counts of the video's marks, and steps to the next unreviewed or needs-fix frame."""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QGridLayout, QLabel, QLineEdit, QToolButton, QWidget

from annotator.annotation.marks import QAMark, Verdict


class MarkBar(QWidget):
    comment_edited = pyqtSignal(str)

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = QLabel("Frame: unreviewed")
        self.state.setTextFormat(Qt.TextFormat.PlainText)
        self.counts = QLabel("")
        self.counts.setTextFormat(Qt.TextFormat.PlainText)
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("comment (Return keeps it; the frame then needs a fix "
                                        "unless accepted)")
        self.comment.editingFinished.connect(
            lambda: self.comment_edited.emit(self.comment.text().strip()))
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.state, 0, 0, 1, 2)
        layout.addWidget(self.counts, 0, 2, 1, 2, Qt.AlignmentFlag.AlignRight)
        for column, name in enumerate(("mark_accepted", "mark_needs_fix", "next_unreviewed",
                                       "next_needs_fix")):
            button = QToolButton()
            button.setDefaultAction(actions[name])
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            layout.addWidget(button, 1, column)
        layout.addWidget(self.comment, 2, 0, 1, 4)

    def show_mark(self, mark: QAMark | None) -> None:
        """The mark of the frame on screen (None: unreviewed)."""
        self.state.setText("Frame: unreviewed" if mark is None else f"Frame: {mark.verdict.label}")
        if not self.comment.hasFocus():
            self.comment.setText("" if mark is None else mark.comment)

    def show_counts(self, accepted: int, needs_fix: int, unreviewed: int) -> None:
        self.counts.setText(f"{accepted} accepted · {needs_fix} need a fix · "
                            f"{unreviewed} unreviewed")


def edited_mark(mark: QAMark | None, verdict: Verdict | None, comment: str | None,
                ) -> QAMark | None:
    """A frame's mark after the person chose `verdict` (None: kept) or wrote `comment` (None:
    kept): a comment on an unreviewed frame makes it need a fix; an empty comment on it
    leaves it unreviewed."""
    if verdict is None and mark is None:
        return QAMark(Verdict.NEEDS_FIX, comment) if comment else None
    chosen = verdict if verdict is not None else mark.verdict if mark is not None else None
    kept = comment if comment is not None else mark.comment if mark is not None else ""
    return QAMark(chosen, kept) if chosen is not None else None
