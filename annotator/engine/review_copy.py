"""A prediction opened next to a video's frames, for review in the app: a small dataset of its
own (the review copy) whose frames are a link to the video's and whose masks are the
prediction's, taken as propagated frames. The person fixes and re-propagates there and marks
the frames; the prediction's own files and the video's own masks are never written.

The copy of prediction ``preds/bear`` (a folder) or ``results.json`` is ``preds/bear-review``
or ``results-review`` beside it; opening the same prediction again reopens the copy as it was
left (marks, fixes and all).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from annotator.annotation.objects import FrameState
from annotator.annotation.project import Project
from annotator.engine.mask_sets import MaskSource
from annotator.errors import AnnotatorError
from annotator.formats.atomic import safe_join
from annotator.formats.names import plain_name
from annotator.video.dataset import png_files
from annotator.video.folder import list_frame_files

Progress = Callable[[int, int], None]
COPY_SUFFIX = "-review"


def copy_folder(prediction: Path) -> Path:
    """Where the review copy of `prediction` lives: beside it, named after it."""
    return prediction.with_name(prediction.stem + COPY_SUFFIX)


def frames_link(copy: Path, frames: Path, video: str) -> Path:
    """The copy's link to the video's frames: ``JPEGImages/<video>``, or ``<video>.<ext>``
    for a video file."""
    name = plain_name(video, "video")  # the link itself leads outside: no resolving join
    if frames.is_file():
        return copy / (name + frames.suffix)
    return copy / "JPEGImages" / name


def make_review_copy(prediction: MaskSource, frames: Path, video: str,
                     frame_names: list[str], size: tuple[int, int],
                     copy: Path | None = None, progress: Progress | None = None) -> Path:
    """Make (or find) the review copy of `prediction` for `video`, whose frames are `frames`
    (a folder or a video file, linked, never copied); returns what to open: the copy's root
    (with the video's name), or its link to the video file. Run it in a worker: it reads and
    writes every mask of the video the first time."""
    copy = (copy or copy_folder(prediction.path)).absolute()
    frames = frames.resolve()
    link = frames_link(copy, frames, video)
    target = link if frames.is_file() else copy
    masks_dir = safe_join(copy, "Annotations", video)
    if link.is_symlink() and png_files(masks_dir):  # made before: reopen it as it was left
        if link.resolve() != frames:
            raise AnnotatorError(f"the review copy's frames of {video!r} are "
                                 f"{link.resolve()}, not these", link)
        return target
    masks = prediction.for_video(video, frame_names, size)
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        try:
            os.symlink(frames, link, target_is_directory=frames.is_dir())
        except OSError as exc:
            raise AnnotatorError(f"cannot make the review copy here ({exc.strerror or exc})",
                                 link) from exc
    if frames.is_dir() and not list_frame_files(link):
        raise AnnotatorError("the review copy's link to the frames shows none", link)
    project = Project.open(target, video)
    try:
        if project.dataset.root.absolute() != copy:  # never write beside the real frames
            raise AnnotatorError("the review copy opened as another dataset "
                                 f"({project.dataset.root})", copy)
        annotation = project.annotation
        position = {name: i for i, name in enumerate(frame_names)}
        for done, name in enumerate(masks.names, 1):
            annotation.load_label_map(position[name], masks.labels(name), FrameState.PROPAGATED)
            if progress is not None:
                progress(done, len(masks.names))
        annotation.mark_unsaved([position[name] for name in masks.names], meta=True)
        project.save()
    finally:
        project.close()
    return target
