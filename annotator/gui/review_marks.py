"""The review marks of the frame on screen: accept it, or say it needs a fix (with a comment),
the counts of the video's marks, and steps to the next unreviewed or needs-fix frame."""

from __future__ import annotations

from PyQt6.QtCore import QEvent, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QKeyEvent
from PyQt6.QtWidgets import QGridLayout, QLabel, QLineEdit, QSizePolicy, QToolButton, QWidget

from annotator.annotation.marks import QAMark, Verdict


class MarkBar(QWidget):
    """Accept / needs fix (checked: the frame on screen's mark; a click on the checked one
    removes it), the comment, the counts, and the steps to the next frames to look at."""

    comment_edited = pyqtSignal(int, str)  # frame index, comment

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.actions = actions
        self.frame = 0  # the frame whose mark is shown
        self.counts = QLabel("")
        self.counts.setTextFormat(Qt.TextFormat.PlainText)
        self.comment = CommentEdit()
        self.comment.setPlaceholderText("comment on this frame (Return keeps it)")
        self.comment.editingFinished.connect(self._commit)
        self.counts.setWordWrap(True)
        layout = button_grid(actions, ("mark_accepted", "mark_needs_fix", "next_unreviewed",
                                       "next_needs_fix"))  # two columns: a narrow side panel
        self.setLayout(layout)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.comment, 2, 0, 1, 2)
        layout.addWidget(self.counts, 3, 0, 1, 2)

    def _commit(self) -> None:
        """A comment typed (and not kept yet) goes to the frame it was typed on."""
        if self.comment.isModified():
            self.comment.setModified(False)
            self.comment_edited.emit(self.frame, self.comment.text().strip())

    def show_mark(self, frame: int, mark: QAMark | None) -> None:
        """The mark of frame `frame`, now on screen (None: unreviewed)."""
        if frame != self.frame:
            self._commit()
            self.frame = frame
        for name, verdict in (("mark_accepted", Verdict.ACCEPTED),
                              ("mark_needs_fix", Verdict.NEEDS_FIX)):
            action = self.actions[name]
            action.blockSignals(True)
            action.setChecked(mark is not None and mark.verdict is verdict)
            action.blockSignals(False)
        if not self.comment.isModified():
            self.comment.setText("" if mark is None else mark.comment)

    def show_counts(self, accepted: int, needs_fix: int, unreviewed: int) -> None:
        self.counts.setText(f"{accepted} accepted · {needs_fix} need a fix · "
                            f"{unreviewed} unreviewed")


class CommentEdit(QLineEdit):
    """A line edit that keeps Return and Escape for itself (the window binds them to accept
    and discard a candidate mask)."""

    def event(self, event: QEvent | None) -> bool:
        if event is not None and event.type() == QEvent.Type.ShortcutOverride \
                and isinstance(event, QKeyEvent) \
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent | None) -> None:
        if event is not None and event.key() == Qt.Key.Key_Escape:
            self.setModified(False)
            self.clearFocus()
            return
        super().keyPressEvent(event)


def action_button(action: QAction) -> QToolButton:
    """A text button that triggers (and shows the state of) `action`."""
    button = QToolButton()
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return button


def button_grid(actions: dict[str, QAction], names: tuple[str, ...],
                columns: int = 2) -> QGridLayout:
    """Buttons for the actions `names`, `columns` to a row (the side panel stays narrow)."""
    grid = QGridLayout()
    for at, name in enumerate(names):
        grid.addWidget(action_button(actions[name]), at // columns, at % columns)
    return grid


def edited_mark(mark: QAMark | None, verdict: Verdict | None, comment: str | None,
                ) -> QAMark | None:
    """A frame's mark after the person chose `verdict` (None: kept; the verdict it has
    already: removed) or wrote `comment` (None: kept): a comment on an unreviewed frame makes
    it need a fix; an empty comment on it leaves it unreviewed."""
    if verdict is not None and mark is not None and mark.verdict is verdict:
        return None
    if verdict is None and mark is None:
        return QAMark(Verdict.NEEDS_FIX, comment) if comment else None
    chosen = verdict if verdict is not None else mark.verdict if mark is not None else None
    kept = comment if comment is not None else mark.comment if mark is not None else ""
    return QAMark(chosen, kept) if chosen is not None else None
