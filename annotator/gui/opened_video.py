"""The video open in the window: its project (frames, annotation, journal) and how to reopen
it. One object, made when a video opens and dropped when it closes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from annotator.annotation import VideoAnnotation
from annotator.annotation.project import Project
from annotator.video.dataset import Dataset


@dataclass(frozen=True)
class OpenedVideo:
    """`project` as opened from `path` (a dataset root, a frame folder or a video file);
    `named`: reopening must name the video (the path holds several)."""

    project: Project
    path: str
    named: bool
    recovery: str = ""  # what the journal holds from a session that ended unsaved, if any

    @property
    def annotation(self) -> VideoAnnotation:
        return self.project.annotation

    def reopen(self) -> tuple[str, str | None]:
        """(path, video or None) for the next start."""
        return self.path, self.project.video if self.named else None


def open_video(dataset: Dataset, video: str, path: str, cache_bytes: int) -> OpenedVideo:
    """Open `video` of `dataset` (run it in a worker: it reads every mask of the video)."""
    project = Project.open(path, video, split=dataset.split,
                           cache_bytes=cache_bytes)
    recovery = "unsaved changes were found in its journal" if project.has_recovery() else ""
    return OpenedVideo(project, str(Path(path).resolve()), len(dataset.videos) > 1, recovery)
