"""Saving, recovering and exporting the open video's project, off the GUI thread.

Every change is journalled at once by the annotation layer (so a crash loses at most the last
stroke); shortly after each change, and after every propagated chunk, the project writes its
changed frames to the dataset in a worker (`Project.write_changes`), then empties its journal
on this thread unless something changed meanwhile (`Project.finish_save`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from PyQt6.QtCore import QCoreApplication, QEventLoop, QObject, QTimer, pyqtSignal

from annotator.annotation import ChangeEvent
from annotator.annotation.journal import Recovery
from annotator.annotation.project import Project
from annotator.errors import describe_os_error
from annotator.formats.convert import export_video
from annotator.gui.workers import TaskQueue

SAVE_DELAY_MS = 400  # after the last change
RETRY_DELAY_MS = 3000  # after a failed save
ExportKind = Literal["lvvis", "lvvis_results", "youtube_vos", "labelme"]
EXPORT_LAYOUTS: dict[ExportKind, str] = {
    "lvvis": "lvvis",
    "lvvis_results": "lvvis-results",
    "youtube_vos": "youtube-vos-valid",
    "labelme": "labelme",
}


class Autosaver(QObject):
    """Saves the project it is given soon after each change; says how saving goes."""

    state = pyqtSignal(str)  # "unsaved changes", "saving…", "saved HH:MM:SS", "NOT SAVED"
    message = pyqtSignal(str)
    error = pyqtSignal(str)
    recovered = pyqtSignal(object)  # the Recovery; None when it failed (`error` says why)
    recovering_changed = pyqtSignal()

    def __init__(self, tasks: TaskQueue, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.project: Project | None = None
        self.saving = False
        self.recovering = False  # a journal is being replayed in the worker
        self.failures = 0  # failed saves, so that waiting for saves can give up
        self._journal_problem: tuple[int | None, str | None] | None = None  # last reported
        self._unsubscribe: Callable[[], None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._save)

    def attach(self, project: Project) -> None:
        """Save `project` from now on (after `close` of the one before)."""
        self.project = project
        self._unsubscribe = project.annotation.subscribe(self._on_change)

    def close(self) -> None:
        """Save everything now (in the worker, waiting for it) and close the project; what
        could not be saved stays in its journal for recovery."""
        project = self.project
        if project is None:
            return
        if project.annotation.is_dirty:
            self.schedule(0)
        self.wait_idle()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        project.close()
        self.project = None

    # ---- recovery ------------------------------------------------------------------------
    def recover(self) -> None:
        """Replay the journal in the task worker (saves wait behind it; it decodes every
        journalled frame), then tell the window on this thread; edits wait meanwhile
        (`recovering`)."""
        project = self.project
        if project is None or self.recovering:
            return
        self._set_recovering(True)
        self.message.emit("Recovering unsaved work from the recovery journal…")
        self.tasks.submit(lambda: project.recover(notify=False),
                          lambda recovery: self._recovered(project, recovery),
                          self._recovery_failed)

    def _recovered(self, project: Project, recovery: Recovery) -> None:
        self._set_recovering(False)
        if project is not self.project:
            return
        project.annotation.notify_loaded()
        self.message.emit(f"Recovery: {recovery.summary()} (Undo takes it back)")
        self.recovered.emit(recovery)
        self.schedule(0)

    def _recovery_failed(self, message: str) -> None:
        self._set_recovering(False)
        self.error.emit(message)
        self.recovered.emit(None)

    def _set_recovering(self, on: bool) -> None:
        self.recovering = on
        self.recovering_changed.emit()

    def discard_recovery(self) -> None:
        if self.project is not None:
            self.project.discard_recovery()

    # ---- saving --------------------------------------------------------------------------
    def _on_change(self, event: ChangeEvent) -> None:
        error = self.project.journal.error if self.project is not None else None
        problem = None if error is None else (error.errno, error.filename)
        if error is None:
            self.state.emit("unsaved changes")
            if self._journal_problem is not None:
                self.message.emit("The recovery journal is written again: work is protected.")
        else:
            self.state.emit("unsaved, NOT PROTECTED")
            if problem != self._journal_problem:
                self.error.emit(self.unprotected(error))
        self._journal_problem = problem
        self.schedule(SAVE_DELAY_MS)

    @staticmethod
    def unprotected(error: OSError) -> str:
        return (f"The recovery journal cannot be written ({describe_os_error(error)}): until "
                "it can, unsaved work is NOT protected against a crash.")

    def schedule(self, delay_ms: int) -> None:
        """Save in `delay_ms` (or sooner, when a save was due sooner already)."""
        if self.project is not None and (not self._timer.isActive()
                                         or self._timer.remainingTime() > delay_ms):
            self._timer.start(delay_ms)

    def save_now(self) -> None:
        self.schedule(0)

    def _save(self) -> None:
        project = self.project
        if project is None or not project.annotation.is_dirty:
            return
        if self.saving:
            self.schedule(SAVE_DELAY_MS)
            return
        self.saving = True
        self.state.emit("saving…")
        self.tasks.submit(project.write_changes, lambda _: self._saved(project),
                          lambda message: self._failed(message))

    def _saved(self, project: Project) -> None:
        self.saving = False
        if project.finish_save():
            self.state.emit(f"saved {time.strftime('%H:%M:%S')}")
        else:
            self.schedule(SAVE_DELAY_MS)

    def _failed(self, message: str) -> None:
        self.saving = False
        self.failures += 1
        self.state.emit("NOT SAVED")
        error = self.project.journal.error if self.project is not None else None
        kept = ("Your work is kept in the recovery journal." if error is None
                else self.unprotected(error))
        self.message.emit(f"Could not save ({message}); trying again. {kept}")
        self._timer.start(RETRY_DELAY_MS)

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Let a recovery and queued saves finish (running the event loop); False on
        timeout."""
        deadline = time.monotonic() + timeout_s
        failures = self.failures
        while (self.saving or self.recovering or self._timer.isActive()) \
                and time.monotonic() < deadline:
            if self.failures > failures and not self.saving:
                break  # the disk refuses: the journal keeps the work
            if self._timer.isActive() and not self.saving:
                self._timer.stop()
                self._save()
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.005)
        return not (self.saving or self.recovering or self._timer.isActive())

    # ---- exports -------------------------------------------------------------------------
    def export(self, kind: ExportKind, target: Path) -> None:
        """Save, then write the video in the chosen layout into the folder `target`."""
        project = self.project
        if project is None:
            return
        self.wait_idle()
        root, video, split = project.dataset.root, project.video, project.dataset.split
        self.message.emit(f"Exporting {video}…")
        self.tasks.submit(
            lambda: export_video(root, video, split, target, EXPORT_LAYOUTS[kind]),
            lambda written: self.message.emit(f"Exported {video}: wrote {written}"),
            self.error.emit,
        )

    def shutdown(self) -> None:
        self._timer.stop()
