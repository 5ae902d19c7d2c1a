"""The controller between the widgets and the layers below: the open video, the current frame
and object, and the children that run models and saves in workers (click control, propagation
control, autosaver, review control), each with its own signals. Every action is a call into
annotator.annotation, annotator.engine or annotator.formats."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal

from annotator.annotation import ChangeEvent, VideoAnnotation
from annotator.annotation.edits import clear_object, fill_holes, replace_mask
from annotator.annotation.state_file import DamagedState, StateChoice
from annotator.engine.propagation import Direction, PropagationRequest
from annotator.errors import AnnotatorError
from annotator.formats.palette import object_colour
from annotator.gui.annotation_rows import timeline_rows
from annotator.gui.autosave import Autosaver
from annotator.gui.click_control import ClickControl
from annotator.gui.opened_video import DamagedStateFound, OpenedVideo, open_video
from annotator.gui.propagation_control import PropagationControl
from annotator.gui.review_control import ReviewControl
from annotator.gui.settings import Preferences
from annotator.gui.timeline import TimelineRow
from annotator.gui.workers import EngineChoice, TaskQueue
from annotator.video.dataset import Dataset, open_dataset

DECODE_AHEAD = 3  # frames decoded ahead of the current one


class Controller(QObject):
    """The session: the open video, the current frame and object, and the actions on them."""

    video_opened = pyqtSignal(str)
    dataset_opened = pyqtSignal(object)  # a Dataset with several videos: pick one
    frame_changed = pyqtSignal(int)
    masks_changed = pyqtSignal()
    objects_changed = pyqtSignal()
    engines_changed = pyqtSignal()
    message = pyqtSignal(str)
    error = pyqtSignal(str)
    recovery_available = pyqtSignal(str)  # the journal an unsaved session left
    state_damaged = pyqtSignal(object)  # a DamagedStateFound: ask how to open the video

    def __init__(self, prefs: Preferences | None = None) -> None:
        super().__init__()
        self.prefs = prefs or Preferences()
        self.tasks = TaskQueue("vos-tasks", self)
        self.decoder = TaskQueue("vos-frames", self)  # decodes the next frames ahead
        self.opened: OpenedVideo | None = None
        self.index = 0
        self.current_object: int | None = None
        self.hidden: set[int] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._frame_cache: tuple[int, np.ndarray] | None = None
        self._timeline_cache: list[TimelineRow] | None = None
        self._shown_frame_changed = False
        self.clicker = ClickControl(self)
        self.propagation = PropagationControl(self)
        self.autosaver = Autosaver(self.tasks, self)
        self.review = ReviewControl(self)
        self._connect_children()
        self.apply_preferences(self.prefs)

    def _connect_children(self) -> None:
        p, review = self.propagation, self.review
        for child in (self.clicker, p, self.autosaver, review):
            child.error.connect(self.error)
        for child in (p, self.autosaver, review):
            child.message.connect(self.message)
        self.clicker.engine_changed.connect(self.engines_changed)
        p.engine_changed.connect(self.engines_changed)
        p.applied.connect(lambda: self.autosaver.schedule(0))  # every chunk is saved
        p.started.connect(self._on_propagation_started)
        p.finished.connect(self._on_propagation_finished)
        review.seek.connect(self.set_index)

    def apply_preferences(self, prefs: Preferences) -> None:
        """Take new preferences; the engines reload in their worker threads."""
        self.prefs = prefs
        device = None if prefs.device == "auto" else prefs.device
        folder = prefs.weights_dir or None
        self.clicker.load(EngineChoice(prefs.click_engine, device, folder))
        self.propagation.load(EngineChoice(prefs.propagation_engine, device, folder,
                                           prefs.memory_frames or None))
        self.engines_changed.emit()

    # ---- the open video ------------------------------------------------------------------
    @property
    def annotation(self) -> VideoAnnotation | None:
        return None if self.opened is None else self.opened.annotation

    @property
    def video(self) -> str | None:
        return None if self.opened is None else self.opened.project.video

    @property
    def dataset(self) -> Dataset | None:
        return None if self.opened is None else self.opened.project.dataset

    def open(self, path: str | Path, video: str | None = None, frame: int = 0) -> None:
        """Open a folder of frames, a video file or a dataset root (asks for a video)."""
        try:
            dataset = open_dataset(path)
        except AnnotatorError as exc:
            self.error.emit(str(exc))
            return
        if video is None and len(dataset.videos) == 1:
            video = dataset.videos[0]
        if video is None:
            self.dataset_opened.emit(dataset)
            return
        self.open_video(dataset, video, frame, opened_path=str(Path(path).resolve()))

    def open_video(self, dataset: Dataset, video: str, frame: int = 0,
                   opened_path: str | None = None, state: StateChoice = "saved") -> None:
        """Load a video's frames list and annotation in a worker, then show it; `state` says
        what to do with a damaged state file (see `state_file`)."""
        if self.propagation.running:
            self.error.emit("Cancel the running propagation before opening another video.")
            return
        self.message.emit(f"Opening {video}…")
        cache, path = self.prefs.frame_cache_mb * 2**20, opened_path or str(dataset.root)

        def opened(result: OpenedVideo | DamagedState) -> None:
            if isinstance(result, OpenedVideo):
                self._install(result, frame)
            else:
                self.state_damaged.emit(DamagedStateFound(
                    result, lambda choice: self.open_video(dataset, video, frame, path, choice)))

        self.tasks.submit(lambda: open_video(dataset, video, path, cache, state), opened,
                          self.error.emit)

    def _install(self, opened: OpenedVideo, frame: int) -> None:
        self.close_video()
        self.opened = opened
        annotation, count = opened.annotation, len(opened.project.frames)
        self.autosaver.attach(opened.project)
        self.index = min(max(0, frame), count - 1)
        self.hidden.clear()
        objects = list(annotation.objects)
        self.current_object = objects[0] if objects else None
        self._unsubscribe = annotation.subscribe(self._on_change)
        self._timeline_cache = None
        self.review.set_video(opened)
        self.video_opened.emit(f"{opened.project.video} ({count} frames)")
        self.objects_changed.emit()
        self._frame_moved()
        self.message.emit(f"Opened {opened.project.video}: {count} frames, "
                          f"{len(objects)} objects")
        if opened.recovery:
            self.recovery_available.emit(opened.recovery)

    def close_video(self) -> None:
        """Save what is unsaved and let the video go."""
        self.propagation.abort()
        self.autosaver.close()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.review.set_video(None)
        self.opened = None
        self._frame_cache = None
        self.clicker.clear()

    # ---- frames --------------------------------------------------------------------------
    @property
    def frame_count(self) -> int:
        return 0 if self.opened is None else len(self.opened.project.frames)

    def frame_size(self) -> tuple[int, int]:
        return (0, 0) if self.opened is None else self.opened.project.frames.size

    def frame_name(self, index: int) -> str:
        return "" if self.opened is None else self.opened.project.frames.names[index]

    def frame(self) -> np.ndarray | None:
        """The current frame; a grey frame and a message when it cannot be read."""
        if self.opened is None:
            return None
        if self._frame_cache is not None and self._frame_cache[0] == self.index:
            return self._frame_cache[1]
        frames = self.opened.project.frames
        try:
            frame = frames[self.index]
        except AnnotatorError as exc:
            self.error.emit(str(exc))
            frame = np.full((*frames.size, 3), 96, np.uint8)
        self._frame_cache = (self.index, frame)
        return frame

    def labels(self) -> np.ndarray | None:
        return None if self.opened is None else self.opened.annotation.label_map(self.index)

    def set_index(self, index: int) -> None:
        if self.opened is None:
            return
        index = min(max(0, int(index)), self.frame_count - 1)
        if index != self.index:
            self.index = index
            self._frame_moved()

    def step(self, delta: int) -> None:
        self.set_index(self.index + delta)

    def next_keyframe(self) -> None:
        later = [i for i in self._keyframe_indices() if i > self.index]
        if later:
            self.set_index(later[0])

    def previous_keyframe(self) -> None:
        earlier = [i for i in self._keyframe_indices() if i < self.index]
        if earlier:
            self.set_index(earlier[-1])

    def _keyframe_indices(self) -> list[int]:
        return [] if self.opened is None else self.opened.annotation.keyframe_indices()

    def _frame_moved(self) -> None:
        self.clicker.start(self.index, self.frame())
        self.frame_changed.emit(self.index)
        self._decode_ahead()

    def _decode_ahead(self) -> None:
        """Have the frames after this one decoded into the cache by a worker (playback and
        stepping then rarely wait for a decode); one batch at a time."""
        if self.opened is None or self.decoder.busy:
            return
        frames = self.opened.project.frames
        ahead = [i for i in range(self.index + 1, min(self.index + 1 + DECODE_AHEAD, len(frames)))
                 if i not in frames.cache]
        if ahead:
            self.decoder.submit(lambda: [frames[i] for i in ahead], None,
                                lambda message: None)  # shown when the frame is visited

    # ---- objects -------------------------------------------------------------------------
    def object_colour(self, object_id: int | None) -> tuple[int, int, int]:
        annotation = self.annotation
        if annotation is not None and object_id is not None and object_id in annotation.objects:
            return annotation.object(object_id).colour
        return object_colour(object_id or 1)

    def select_object(self, object_id: int) -> None:
        if self.annotation is None or object_id not in self.annotation.objects:
            return
        if object_id != self.current_object:
            self.current_object = object_id
            self.clicker.start(self.index, self.frame())
            self.objects_changed.emit()

    def add_object(self) -> int | None:
        annotation = self._editable()
        if annotation is None:
            return None
        try:
            info = annotation.add_object()
        except ValueError as exc:
            self.error.emit(str(exc))
            return None
        self.current_object = info.id
        self.clicker.start(self.index, self.frame())
        self.objects_changed.emit()
        return info.id

    def delete_object(self, object_id: int) -> None:
        annotation = self._editable()
        if annotation is not None:
            annotation.remove_object(object_id)  # the current object moves on in _on_change
            self.hidden.discard(object_id)

    def merge_objects(self, ids: list[int]) -> None:
        annotation = self._editable()
        if annotation is not None and len(ids) > 1:
            with annotation.transaction("merge objects"):
                for other in ids[1:]:
                    annotation.merge_objects(ids[0], other)
            self.current_object = ids[0]

    def update_object(self, object_id: int, *, category: str | None = None,
                      caption: str | None = None,
                      colour: tuple[int, int, int] | None = None) -> None:
        annotation = self._editable()
        if annotation is not None:
            annotation.update_object(object_id, category=category, caption=caption,
                                     colour=colour)

    def set_visible(self, object_id: int, visible: bool) -> None:
        if visible:
            self.hidden.discard(object_id)
        else:
            self.hidden.add(object_id)
        self.masks_changed.emit()

    # ---- clicks, candidates and strokes --------------------------------------------------
    def click(self, x: float, y: float, positive: bool) -> None:
        height, width = self.frame_size()
        if 0 <= x < width and 0 <= y < height and self._ensure_object() is not None:
            self.clicker.click(x, y, positive)

    def box(self, x0: float, y0: float, x1: float, y1: float) -> None:
        height, width = self.frame_size()
        x0, x1 = sorted((min(max(x0, 0), width - 1), min(max(x1, 0), width - 1)))
        y0, y1 = sorted((min(max(y0, 0), height - 1), min(max(y1, 0), height - 1)))
        if x1 - x0 >= 2 and y1 - y0 >= 2 and self._ensure_object() is not None:
            self.clicker.box(x0, y0, x1, y1)

    def accept_candidate(self) -> None:
        """The candidate becomes the current object's mask on this frame (a keyframe)."""
        mask, target = self.clicker.mask(), self._target()
        if mask is not None and target is not None:
            replace_mask(*target, mask)
            self.clicker.reset()

    def paint(self, mask: np.ndarray) -> None:
        annotation = self._editable()
        obj = self._ensure_object() if annotation is not None and mask.any() else None
        if annotation is not None and obj is not None:
            annotation.paint(self.index, obj, mask)

    def erase(self, mask: np.ndarray) -> None:
        """Erase the current object under the stroke (every object when none is selected)."""
        annotation = self._editable()
        if annotation is not None and mask.any():
            annotation.erase(self.index, mask, self.current_object)

    def fill_holes(self) -> None:
        target = self._target()
        if target is not None:
            fill_holes(*target)

    def clear_object(self) -> None:
        target = self._target()
        if target is not None:
            clear_object(*target)

    # ---- propagation and undo ------------------------------------------------------------
    def propagate(self, direction: Direction, object_ids: list[int] | None = None) -> None:
        """Carry masks from the current frame (and every keyframe) forward, backward or both,
        for `object_ids` (None or empty: every object)."""
        if self.opened is not None:
            request = PropagationRequest(self.index, direction,
                                         object_ids=tuple(sorted(object_ids or ())) or None)
            self.propagation.start(self.opened, request, self.prefs.frame_cache_mb * 2**20)

    def _on_propagation_started(self, total: int) -> None:
        self.review.propagating = True  # frames stream in: the review rescores in its worker

    def _on_propagation_finished(self, cancelled: bool) -> None:
        self.review.propagating = False
        self.masks_changed.emit()
        self.autosaver.schedule(0)

    @property
    def can_undo(self) -> bool:
        annotation = self.annotation
        return annotation is not None and annotation.can_undo and not self.propagation.running

    @property
    def can_redo(self) -> bool:
        annotation = self.annotation
        return annotation is not None and annotation.can_redo and not self.propagation.running

    def undo(self) -> None:
        if self.can_undo and self.annotation is not None:
            self.annotation.undo()

    def redo(self) -> None:
        if self.can_redo and self.annotation is not None:
            self.annotation.redo()

    # ---- change notifications ------------------------------------------------------------
    def timeline_rows(self) -> list[TimelineRow]:
        if self.annotation is None:
            return []
        if self._timeline_cache is None:
            self._timeline_cache = timeline_rows(self.annotation)
        return self._timeline_cache

    def take_shown_frame_changed(self) -> bool:
        """Whether a change touched the frame on screen since the last call."""
        changed, self._shown_frame_changed = self._shown_frame_changed, False
        return changed

    def _on_change(self, event: ChangeEvent) -> None:
        self._timeline_cache = None
        if self.index in event.frames or event.objects_changed or not event.frames:
            self._shown_frame_changed = True
        if self.annotation is not None and self.current_object not in self.annotation.objects:
            remaining = list(self.annotation.objects)
            self.current_object = remaining[0] if remaining else None
        if event.objects_changed:
            self.objects_changed.emit()
        else:
            self.masks_changed.emit()

    # ---- helpers -------------------------------------------------------------------------
    def _editable(self) -> VideoAnnotation | None:
        """The annotation when a person may change it now."""
        if self.propagation.running and self.annotation is not None:
            self.message.emit("Wait for the propagation to finish, or cancel it, to edit")
            return None
        return self.annotation

    def _target(self) -> tuple[VideoAnnotation, int, int] | None:
        """(annotation, frame, current object) when a person may edit them now."""
        annotation, obj = self._editable(), self.current_object
        return None if annotation is None or obj is None else (annotation, self.index, obj)

    def _ensure_object(self) -> int | None:
        """The current object; the first one is added when there is none."""
        if self.annotation is None or self.current_object is not None:
            return self.current_object
        return self.add_object()

    def shutdown(self) -> None:
        """Stop workers after saving what is unsaved."""
        self.close_video()
        self.clicker.shutdown()
        self.propagation.shutdown()
        self.review.shutdown()
        self.tasks.shutdown()
        self.decoder.shutdown()
        self.autosaver.shutdown()
