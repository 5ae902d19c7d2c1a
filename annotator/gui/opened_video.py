"""The video open in the window: its project (frames, annotation, journal) and how to reopen
it. One object, made when a video opens and dropped when it closes."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from annotator.annotation import VideoAnnotation
from annotator.annotation.journal import journal_path
from annotator.annotation.project import Project
from annotator.annotation.state_file import DamagedState, StateChoice
from annotator.errors import AnnotatorError
from annotator.video.dataset import Dataset


@dataclass(frozen=True)
class OpenedVideo:
    """`project` as opened from `path` (a dataset root, a frame folder or a video file);
    `named`: reopening must name the video (the path holds several)."""

    project: Project
    path: str
    named: bool
    recovery: str = ""  # the journal a session that ended unsaved left, if any

    @property
    def annotation(self) -> VideoAnnotation:
        return self.project.annotation

    def reopen(self) -> tuple[str, str | None]:
        """(path, video or None) for the next start."""
        return self.path, self.project.video if self.named else None


@dataclass(frozen=True)
class DamagedStateFound:
    """Opening stopped at a damaged state file; `retry(choice)` opens the video again as the
    person chooses (see `annotator.annotation.state_file`)."""

    error: DamagedState
    retry: Callable[[StateChoice], None]


def open_video(dataset: Dataset, video: str, path: str, cache_bytes: int, frame: int = 0,
               state: StateChoice = "saved") -> OpenedVideo | DamagedState:
    """Open `video` of `dataset` (run it in a worker: it reads every mask of the video) and
    decode its frame `frame` (shown first) into the cache; a frame that cannot be read is
    reported when it is shown. A damaged state file is returned, for the person to choose how
    to go on."""
    try:
        project = Project.open(path, video, split=dataset.split, cache_bytes=cache_bytes,
                               state=state)
    except DamagedState as exc:
        return exc
    with contextlib.suppress(AnnotatorError, IndexError):
        project.frames[min(max(0, frame), len(project.frames) - 1)]
    recovery = str(journal_path(dataset.root, video)) if project.has_recovery() else ""
    return OpenedVideo(project, str(Path(path).resolve()), len(dataset.videos) > 1, recovery)
