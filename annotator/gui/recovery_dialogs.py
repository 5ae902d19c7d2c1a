"""What the window says about unsaved work and the tool's own files: the offer to recover a
journal, what the recovery brought back and dropped, and the choice when a state file is
damaged. Each dialog tells the truth about where the work is and what was lost."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from annotator.annotation.journal import Recovery
from annotator.annotation.state_file import DamagedState, StateChoice
from annotator.errors import shown_path
from annotator.gui.opened_video import DamagedStateFound

if TYPE_CHECKING:
    from annotator.gui.controller import Controller

MAX_LISTED = 12  # dropped records listed in the warning; the kept journal holds them all


def connect(window: QWidget, controller: Controller) -> None:
    """Show these dialogs over `window` when the controller's video needs them."""
    autosaver = controller.autosaver
    busy: list[QProgressDialog] = []

    def offer(journal: str) -> None:
        if not ask_recovery(window, journal):
            autosaver.discard_recovery()
            return
        progress = QProgressDialog("Recovering unsaved work from the recovery journal…", "", 0,
                                   0, window)
        progress.setCancelButton(None)
        progress.setWindowModality(Qt.WindowModality.WindowModal)  # no edits meanwhile
        progress.setMinimumDuration(0)
        busy.append(progress)
        progress.open()
        autosaver.recover()

    def done(recovery: Recovery | None) -> None:
        while busy:
            busy.pop().close()
        if recovery is not None:
            show_recovery(window, recovery)

    def damaged(found: DamagedStateFound) -> None:
        choice = ask_damaged_state(window, found.error)
        if choice is not None:
            found.retry(choice)

    controller.recovery_available.connect(offer)
    autosaver.recovered.connect(done)
    controller.state_damaged.connect(damaged)


def ask_recovery(parent: QWidget, journal: str) -> bool:
    """Whether to replay the journal the last session left (True) or delete it."""
    answer = QMessageBox.question(
        parent, "Recover unsaved work?",
        f"A recovery journal was found:\n{journal}\n\nThe last session ended before all its "
        "work was saved. Recover that work? (No deletes the journal.)",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    return answer == QMessageBox.StandardButton.Yes


def recovery_text(recovery: Recovery) -> str:
    """The report: what came back, every record dropped (up to `MAX_LISTED`), the kept file."""
    lines = [recovery.summary()]
    if not recovery.complete:
        lines += ["", f"NOT everything came back: {len(recovery.dropped)} damaged part(s) of "
                  "the journal were dropped:"]
        lines += [f"• {d.describe()}" for d in recovery.dropped[:MAX_LISTED]]
        if len(recovery.dropped) > MAX_LISTED:
            lines.append(f"• … and {len(recovery.dropped) - MAX_LISTED} more")
        if recovery.kept is not None:
            lines += ["", f"The damaged journal is kept as {shown_path(recovery.kept)}"]
        else:
            lines += ["", "The damaged journal could not be kept (the disk refused a copy)."]
    return "\n".join(lines)


def show_recovery(parent: QWidget, recovery: Recovery) -> QMessageBox:
    """Say what the recovery did, in a box that does not block; a warning when it dropped
    anything."""
    icon = QMessageBox.Icon.Information if recovery.complete else QMessageBox.Icon.Warning
    title = "Work recovered" if recovery.complete else "Work recovered in part"
    box = QMessageBox(icon, title, recovery_text(recovery), QMessageBox.StandardButton.Ok,
                      parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setObjectName("recovery-report")
    box.setModal(False)
    box.show()
    return box


def ask_damaged_state(parent: QWidget, error: DamagedState) -> StateChoice | None:
    """How to open a video whose state file does not load: without the state, from the kept
    copy (when it loads), or not at all (None)."""
    box = QMessageBox(QMessageBox.Icon.Warning, "The video's state file is damaged",
                      f"{error}\n\nThe masks on disk are fine. The damaged file is kept aside "
                      "either way.", QMessageBox.StandardButton.Cancel, parent)
    without = box.addButton("Open without the state", QMessageBox.ButtonRole.AcceptRole)
    kept = None
    if error.kept is not None:
        kept = box.addButton("Restore the copy from the save before",
                             QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(kept)
    box.exec()
    clicked = box.clickedButton()
    if clicked is not None and clicked is kept:
        return "kept"
    if clicked is without:
        return "without"
    return None
