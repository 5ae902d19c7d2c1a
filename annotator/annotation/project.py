"""Open one video of a dataset for annotating, save it back in place, recover unsaved work.

Typical use (the GUI runs `open` and `save` in a worker thread; both take `progress(done,
total)` callbacks)::

    project = Project.open("/data/LVOS/train", "0tCWPOrc")
    if project.has_recovery():          # the app stopped before saving last time
        result = project.recover()      # or project.discard_recovery(); see `Recovery`
    project.annotation.paint(...)       # every change is journalled at once
    project.save()                      # writes changed frames, meta JSON, the tool's state
    project.close()

Saving writes, in the dataset itself (LVOS layout, DAVIS keeps ``Annotations/480p``):
``Annotations/<video>/<frame>.png`` for each changed frame that has pixels or had a file,
``<split>_meta.json`` and ``<split>_expression_meta.json`` entries for the video, and
``.annotator/<video>.json`` (objects, per-frame states, QA marks; the one it replaces is kept,
see `state_file`). Every file is written atomically; then the journal is emptied.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from annotator.annotation.journal import (
    STATE_DIR,
    Journal,
    Recovery,
    has_recovery,
    recover,
)
from annotator.annotation.objects import FrameState
from annotator.annotation.state_file import StateChoice, apply_choice, read_state, write_state
from annotator.annotation.video_annotation import VideoAnnotation
from annotator.errors import AnnotatorError
from annotator.formats import lvos
from annotator.formats.atomic import remove_stale_temporaries, safe_join
from annotator.formats.frame_ranges import RangeTracker
from annotator.formats.masks import write_label_map
from annotator.formats.reader import read_video
from annotator.formats.video_labels import ObjectMeta, VideoLabels
from annotator.video.dataset import Dataset, open_dataset
from annotator.video.source import DEFAULT_CACHE_BYTES, FrameSource

Progress = Callable[[int, int], None]

def load_annotation(
    dataset: Dataset, video: str, progress: Progress | None = None
) -> VideoAnnotation:
    """Read a video's masks, objects and the tool's saved state into a fresh annotation.

    Frames with a mask on disk and no saved state count as keyframes of their objects.
    """
    labels = read_video(dataset, video)
    annotation = VideoAnnotation(labels.frame_names, labels.height, labels.width)
    annotated = labels.annotated()
    position = {name: i for i, name in enumerate(labels.frame_names)}
    for done, name in enumerate(annotated, 1):
        annotation.load_label_map(position[name], labels.labels[name], FrameState.KEYFRAME)
        if progress is not None:
            progress(done, len(annotated))
    data = read_state(dataset.root, video, labels.frame_names)
    if data is not None:
        annotation.load_state_dict(data)
    else:
        state = annotation.state_dict()
        details = labels.objects
        state["objects"] = [
            {
                "id": i,
                "category": details[i].category if i in details else "",
                "caption": details[i].caption if i in details else "",
            }
            for i in sorted(set(annotation.objects) | set(details))
        ]
        annotation.load_state_dict(state)
    annotation.history.clear()
    annotation.mark_saved()
    return annotation


def save_annotation(
    annotation: VideoAnnotation,
    dataset: Dataset,
    video: str,
    split: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Write what changed since the last save (see the module docstring); returns frames written.

    Safe to run in a worker while the annotation keeps changing: frames changed meanwhile stay
    dirty for the next save. On failure nothing counts as saved.
    """
    dirty, meta_dirty = annotation.begin_save()
    try:
        return _write_changes(annotation, dataset, video, dirty, split, progress)
    except BaseException:
        annotation.mark_unsaved(dirty, meta_dirty)
        raise


def _write_changes(
    annotation: VideoAnnotation,
    dataset: Dataset,
    video: str,
    dirty: list[int],
    split: str | None,
    progress: Progress | None,
) -> int:
    mask_dir = dataset.mask_dir(video)
    existing = dataset.mask_paths(video)
    to_write = [
        i
        for i in dirty
        if annotation.compressed_label_map(i) is not None or annotation.frame_names[i] in existing
    ]
    for done, index in enumerate(to_write, 1):
        name = annotation.frame_names[index]
        write_label_map(safe_join(mask_dir, f"{name}.png"), annotation.label_map(index))
        if progress is not None:
            progress(done, len(to_write))
    on_disk = set(existing) | {annotation.frame_names[i] for i in to_write}
    tracker = RangeTracker(annotation.frame_names)
    for index, name in enumerate(annotation.frame_names):
        if name in on_disk:
            tracker.add(name, annotation.objects_on(index))
    objects = {o.id: ObjectMeta(o.id, o.category, o.caption) for o in annotation.objects.values()}
    labels = VideoLabels(
        video, annotation.frame_names, annotation.height, annotation.width, {}, objects=objects
    )
    split = split or dataset.split or lvos.default_split(dataset.root)
    lvos.update_meta_files(
        dataset.root,
        split,
        {video: lvos.meta_entry(labels, tracker)},
        {video: lvos.expression_entry(labels)},
    )
    write_state(dataset.root, video, {"frames": len(annotation), **annotation.state_dict()})
    return len(to_write)


class Project:
    """One video of a dataset open for annotation: frames, annotation, journal."""

    def __init__(
        self,
        dataset: Dataset,
        video: str,
        frames: FrameSource,
        annotation: VideoAnnotation,
        split: str | None = None,
    ) -> None:
        self.dataset = dataset
        self.video = video
        self.frames = frames
        self.annotation = annotation
        self.split = split
        self.journal = Journal(dataset.root, video, annotation)

    @classmethod
    def open(
        cls,
        path: str | Path,
        video: str | None = None,
        *,
        split: str | None = None,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        progress: Progress | None = None,
        state: StateChoice = "saved",
    ) -> Project:
        """Open `video` of the dataset, frame folder or video file `path`.

        Without `video`: the one whose frame folder `path` is, else the dataset's first. A
        damaged state file stops it with `DamagedState`; open again with `state` "without"
        or "kept" (see `state_file`).
        """
        dataset = open_dataset(path, split=split)
        if not dataset.videos:
            raise AnnotatorError("the dataset holds no videos", dataset.root)
        video = video or dataset.selected or dataset.videos[0]
        remove_stale_temporaries(dataset.root, dataset.root / STATE_DIR, dataset.mask_dir(video))
        apply_choice(dataset.root, video, state)
        frames = dataset.frames(video, cache_bytes)
        try:
            annotation = load_annotation(dataset, video, progress)
            if (len(annotation), *annotation.size) != (len(frames), *frames.size):
                raise AnnotatorError("the masks do not match the frames", dataset.mask_dir(video))
        except BaseException:
            frames.close()
            raise
        return cls(dataset, video, frames, annotation, split)

    def has_recovery(self) -> bool:
        return has_recovery(self.dataset.root, self.video)

    def recover(self, notify: bool = True) -> Recovery:
        """Replay unsaved work left by a crash: what came back and what was dropped. The
        recovered work is one undo step. With `notify` False listeners are not told (call
        `annotation.notify_loaded()`): a GUI recovers in a worker and tells its own thread.

        Journalling goes on whatever happens: after a recovery in a clean journal that holds
        everything unsaved; after AnnotatorError (a journal of another video shape, renamed
        aside) in a new one from the next change.
        """
        self.journal.close()
        root, video = self.dataset.root, self.video
        try:
            result = recover(self.annotation, root, video, notify)
        except BaseException:
            self.journal = Journal(root, video, self.annotation)  # never appends to that file
            raise
        self.journal = Journal(root, video, self.annotation)
        self.journal.restart()
        return result

    def discard_recovery(self) -> None:
        self.journal.discard()

    def save(self, progress: Progress | None = None) -> int:
        """Save changes in place; returns the frames written."""
        written = self.write_changes(progress)
        self.finish_save()
        return written

    def write_changes(self, progress: Progress | None = None) -> int:
        """The writing half of `save`: safe in a worker thread while the annotation keeps
        changing on another; then call `finish_save` on the thread that changes it."""
        return save_annotation(self.annotation, self.dataset, self.video, self.split, progress)

    def finish_save(self) -> bool:
        """After `write_changes`: empty the journal unless something changed meanwhile (that
        still needs it). True when everything is saved."""
        if self.annotation.is_dirty:
            return False
        self.journal.reset()
        return True

    def close(self) -> None:
        self.journal.close()
        self.frames.close()
