"""Opening, saving, recovering and exporting the open video's project, off the GUI thread.

Every change is journalled at once by the annotation layer (so a crash loses at most the last
stroke); shortly after each change, and after every propagated chunk, the changed frames are
written to the dataset in a worker. Frames changed while a save runs are marked unsaved again
when it ends, and the journal is emptied only when nothing changed meanwhile.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from PyQt6.QtCore import QCoreApplication, QEventLoop, QObject, QTimer

from annotator.annotation import ChangeEvent
from annotator.annotation.project import Project, save_annotation
from annotator.formats.convert import export_video

if TYPE_CHECKING:
    from annotator.gui.controller import Controller

SAVE_DELAY_MS = 400  # after the last change
RETRY_DELAY_MS = 3000  # after a failed save
EXPORT_FORMATS = {
    "lvvis": "lvvis",
    "lvvis_results": "lvvis-results",
    "youtube_vos": "youtube-vos-valid",
    "labelme": "labelme",
}


class Autosaver(QObject):
    def __init__(self, controller: Controller) -> None:
        super().__init__(controller)
        self.controller = controller
        self.project: Project | None = None
        self.saving = False
        self.failures = 0  # failed saves, so that waiting for saves can give up
        self._changed_meanwhile: set[int] = set()
        self._meta_changed_meanwhile = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._save)

    # ---- opening (runs in the task worker) -----------------------------------------------
    @staticmethod
    def load(path: str, video: str, split: str | None, cache_bytes: int) -> tuple[Project, str]:
        """Open the project (in the task worker); returns it and a recovery description."""
        project = Project.open(path, video, split=split, cache_bytes=cache_bytes)
        recovery = "unsaved changes were found in its journal" if project.has_recovery() else ""
        return project, recovery

    def recover(self) -> None:
        if self.project is None:
            return
        try:
            restored = self.project.recover()
        except Exception as exc:
            self.controller.report_failure(exc)
            return
        self.controller.message.emit(f"Recovered {restored} unsaved frames")
        self.schedule(0)

    def discard_recovery(self) -> None:
        if self.project is not None:
            self.project.discard_recovery()

    # ---- saving --------------------------------------------------------------------------
    def changed(self, event: ChangeEvent) -> None:
        if self.saving:
            self._changed_meanwhile |= event.frames
            self._meta_changed_meanwhile = True
        self.controller.save_state.emit("unsaved changes")
        self.schedule(SAVE_DELAY_MS)

    def schedule(self, delay_ms: int) -> None:
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
        self._changed_meanwhile = set()
        self._meta_changed_meanwhile = False
        self.controller.save_state.emit("saving…")
        self.controller.tasks.submit(
            lambda: save_annotation(project.annotation, project.dataset, project.video,
                                    project.split),
            lambda written: self._saved(project, written),
            lambda message: self._failed(project, message),
        )

    def _saved(self, project: Project, written: int) -> None:
        self.saving = False
        self._restore_changes(project)
        if not project.annotation.is_dirty:
            project.journal.reset()
            self.controller.save_state.emit(f"saved {time.strftime('%H:%M:%S')}")
        else:
            self.schedule(SAVE_DELAY_MS)

    def _failed(self, project: Project, message: str) -> None:
        self.saving = False
        self.failures += 1
        self._restore_changes(project)
        self.controller.save_state.emit("NOT SAVED")
        self.controller.message.emit(f"Could not save ({message}); trying again. Your work is "
                                     "kept in the recovery journal.")
        self._timer.start(RETRY_DELAY_MS)

    def _restore_changes(self, project: Project) -> None:
        """The save cleared the marks of changes made while it ran: put them back."""
        annotation = project.annotation
        annotation.dirty_frames |= self._changed_meanwhile
        annotation.meta_dirty |= self._meta_changed_meanwhile
        self._changed_meanwhile = set()
        self._meta_changed_meanwhile = False

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Let queued saves finish (running the event loop); False on timeout."""
        deadline = time.monotonic() + timeout_s
        failures = self.failures
        while (self.saving or self._timer.isActive()) and time.monotonic() < deadline:
            if self.failures > failures and not self.saving:
                break  # the disk refuses: the journal keeps the work
            if self._timer.isActive() and not self.saving:
                self._timer.stop()
                self._save()
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.005)
        return not (self.saving or self._timer.isActive())

    def flush(self) -> None:
        """Save everything now (in the worker, waiting for it) and let the project go; what
        could not be saved stays in the journal for recovery."""
        project = self.project
        if project is None:
            return
        if project.annotation.is_dirty:
            self.schedule(0)
        self.wait_idle()
        project.journal.close()
        self.project = None

    # ---- exports -------------------------------------------------------------------------
    def export(self, kind: str, target: Path) -> None:
        """Save, then write the video in the chosen layout into the folder `target`."""
        project = self.project
        if project is None:
            return
        self.wait_idle()
        root, video, split = project.dataset.root, project.video, project.dataset.split
        self.controller.message.emit(f"Exporting {video}…")
        self.controller.tasks.submit(
            lambda: export_video(root, video, split, target, EXPORT_FORMATS[kind]),
            lambda written: self.controller.message.emit(f"Exported {video}: wrote {written}"),
            self.controller.error.emit,
        )

    def shutdown(self) -> None:
        self._timer.stop()
