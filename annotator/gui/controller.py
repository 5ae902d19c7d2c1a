"""The controller between the widgets and the layers below: the open video, the current frame
and object, and the children that run models, decodes, saves and long edits in workers (click
control, propagation control, frame loader, edit jobs, autosaver, review control), each with
its own signals. Every action is a call into annotator.annotation, annotator.engine or
annotator.formats."""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Callable, Iterator
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
from annotator.gui.edit_jobs import EditJobs
from annotator.gui.frame_loader import FrameLoader
from annotator.gui.opened_video import DamagedStateFound, OpenedVideo, open_video
from annotator.gui.propagation_control import PropagationControl
from annotator.gui.review_control import ReviewControl
from annotator.gui.settings import Preferences
from annotator.gui.timeline import TimelineRow
from annotator.gui.workers import EngineChoice, TaskQueue
from annotator.video.dataset import Dataset, open_dataset

GREY = 96  # a frame that cannot be read is shown in this grey


class Controller(QObject):
    """The session: the open video, the current frame and object, and the actions on them."""

    video_opened = pyqtSignal(str)
    dataset_opened = pyqtSignal(object)  # a Dataset with several videos: pick one
    frame_changed = pyqtSignal(int)  # the frame shown moved, or its picture arrived
    masks_changed = pyqtSignal()
    objects_changed = pyqtSignal()
    engines_changed = pyqtSignal()
    busy_changed = pyqtSignal()  # a long edit, a recovery or a propagation began or ended
    history_changed = pyqtSignal()  # a step was filed (its name is known now)
    message = pyqtSignal(str)
    error = pyqtSignal(str)
    recovery_available = pyqtSignal(str)  # the journal an unsaved session left
    state_damaged = pyqtSignal(object)  # a DamagedStateFound: ask how to open the video

    def __init__(self, prefs: Preferences | None = None) -> None:
        super().__init__()
        self.prefs = prefs or Preferences()
        self.tasks = TaskQueue("vos-tasks", self)
        self.downloads = TaskQueue("vos-weights", self)  # weights downloaded and checked
        self.frames = FrameLoader(self)
        self.jobs = EditJobs(self)
        self.opened: OpenedVideo | None = None
        self.index = 0
        self.current_object: int | None = None
        self.hidden: set[int] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._unreadable: dict[int, np.ndarray] = {}  # grey stand-ins of frames that failed
        self._frame_awaited = False  # the current frame is being decoded
        self._timeline_cache: list[TimelineRow] | None = None
        self._shown_frame_changed = False
        self._engines: tuple[EngineChoice, EngineChoice] | None = None
        self._caption_group = object()  # one typing session of a caption: one undo step
        self.clicker = ClickControl(self)
        self.propagation = PropagationControl(self)
        self.autosaver = Autosaver(self.tasks, self)
        self.review = ReviewControl(self)
        self._connect_children()
        self.apply_preferences(self.prefs)

    def _connect_children(self) -> None:
        p, review = self.propagation, self.review
        for child in (self.clicker, p, self.autosaver, review, self.jobs):
            child.error.connect(self.error)
        for child in (p, self.autosaver, review, self.jobs):
            child.message.connect(self.message)
        self.clicker.engine_changed.connect(self.engines_changed)
        p.engine_changed.connect(self.engines_changed)
        p.applied.connect(lambda: self.autosaver.schedule(0))  # every chunk is saved
        p.started.connect(self._on_propagation_started)
        p.finished.connect(self._on_propagation_finished)
        for signal in (self.jobs.started, self.jobs.finished, self.autosaver.recovering_changed):
            signal.connect(self.busy_changed)
        review.seek.connect(self.set_index)
        self.frames.loaded.connect(self._on_frame_loaded)
        self.frames.failed.connect(self._on_frame_failed)

    def apply_preferences(self, prefs: Preferences, reload: bool = False) -> None:
        """Take new preferences; engines whose choice changed (all with `reload`, as after new
        weights arrived) load again in their worker threads, the old ones serving meanwhile."""
        self.prefs = prefs
        device = None if prefs.device == "auto" else prefs.device
        folder = prefs.weights_dir or None
        engines = (EngineChoice(prefs.click_engine, device, folder),
                   EngineChoice(prefs.propagation_engine, device, folder,
                                prefs.memory_frames or None))
        before = self._engines or (None, None)
        self._engines = engines
        if reload or engines[0] != before[0]:
            self.clicker.load(engines[0])
        if reload or engines[1] != before[1]:
            self.propagation.load(engines[1])
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

    def open(self, path: str | Path, video: str | None = None, frame: int = 0,
             object_id: int | None = None) -> None:
        """Open a folder of frames, a video file or a dataset root (asks for a video), at
        `frame` with `object_id` selected when it exists."""
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
        self.open_video(dataset, video, frame, opened_path=str(Path(path).resolve()),
                        object_id=object_id)

    def open_video(self, dataset: Dataset, video: str, frame: int = 0,
                   opened_path: str | None = None, object_id: int | None = None,
                   state: StateChoice = "saved") -> None:
        """Load a video's frames list and annotation in a worker, then show it; `state` says
        what to do with a damaged state file (see `state_file`)."""
        if self.busy:
            self.error.emit("Wait for the running job to finish, or cancel it, before opening "
                            "another video.")
            return
        self.message.emit(f"Opening {video}…")
        cache, path = self.prefs.viewer_cache_bytes, opened_path or str(dataset.root)

        def opened(result: OpenedVideo | DamagedState) -> None:
            if isinstance(result, OpenedVideo):
                self._install(result, frame, object_id)
            else:
                self.state_damaged.emit(DamagedStateFound(result, lambda choice: self.open_video(
                    dataset, video, frame, path, object_id, choice)))

        self.tasks.submit(lambda: open_video(dataset, video, path, cache, frame, state), opened,
                          self.error.emit)

    def _install(self, opened: OpenedVideo, frame: int, object_id: int | None) -> None:
        self.close_video()
        self.opened = opened
        annotation, count = opened.annotation, len(opened.project.frames)
        self.autosaver.attach(opened.project)
        self.frames.set_source(opened.project.frames)
        self.index = min(max(0, frame), count - 1)
        self.hidden.clear()
        objects = list(annotation.objects)
        self.current_object = object_id if object_id in objects else (
            objects[0] if objects else None)
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
        """Finish the edit under way, save what is unsaved and let the video go."""
        self.propagation.abort()
        self.jobs.finish()
        self.autosaver.close()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.review.set_video(None)
        self.frames.set_source(None)
        self.opened = None
        self._unreadable.clear()
        self.clicker.clear()

    @property
    def busy(self) -> str:
        """What keeps the annotation from a person's edits now ("" when nothing does)."""
        if self.propagation.running:
            return "the propagation"
        if self.jobs.running:
            return self.jobs.running
        if self.autosaver.recovering:
            return "the recovery"
        return ""

    # ---- frames --------------------------------------------------------------------------
    @property
    def frame_count(self) -> int:
        return 0 if self.opened is None else len(self.opened.project.frames)

    def frame_size(self) -> tuple[int, int]:
        return (0, 0) if self.opened is None else self.opened.project.frames.size

    def frame_name(self, index: int) -> str:
        return "" if self.opened is None else self.opened.project.frames.names[index]

    def frame(self) -> np.ndarray | None:
        """The current frame (a grey one when it cannot be read), decoded here when that
        costs one decode; else None: it is on its way (`frame_changed` says when)."""
        if self.opened is None:
            return None
        index = self.index
        frame = self._unreadable.get(index, self.frames.cached(index))
        if frame is None and self.frames.cheap(index):
            try:
                frame = self.frames.decode_here(index)
            except AnnotatorError as exc:
                self._on_frame_failed(index, str(exc))
                frame = self._unreadable[index]
        return frame

    def stand_in(self) -> np.ndarray | None:
        """The decoded frame nearest to the current one, to show until that one arrives."""
        return self.frames.stand_in(self.index)

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

    def first_frame(self) -> None:
        self.set_index(0)

    def last_frame(self) -> None:
        self.set_index(self.frame_count - 1)

    def go_to_frame(self, number: int) -> None:
        """Frame `number`, counted from 1 as the window shows it."""
        self.set_index(number - 1)

    def next_keyframe(self) -> None:
        keys = self._keyframe_indices()
        later = bisect.bisect_right(keys, self.index)
        if later < len(keys):
            self.set_index(keys[later])
        else:
            self.message.emit(f"No keyframe after frame {self.index + 1}")

    def previous_keyframe(self) -> None:
        keys = self._keyframe_indices()
        earlier = bisect.bisect_left(keys, self.index)
        if earlier > 0:
            self.set_index(keys[earlier - 1])
        else:
            self.message.emit(f"No keyframe before frame {self.index + 1}")

    def _keyframe_indices(self) -> list[int]:
        return [] if self.opened is None else self.opened.annotation.keyframe_indices()

    def _frame_moved(self) -> None:
        frame = self.frame()
        self._frame_awaited = frame is None
        self.clicker.start(self.index, frame)
        self.frames.request(self.index)  # when cached already: the next ones are decoded ahead
        self.frame_changed.emit(self.index)

    def _on_frame_loaded(self, index: int) -> None:
        frame = self.frame()
        if index == self.index and self._frame_awaited and frame is not None:
            self._frame_awaited = False
            self.clicker.provide(index, frame)
            self.frame_changed.emit(index)

    def _on_frame_failed(self, index: int, message: str) -> None:
        if index in self._unreadable:
            return  # said already
        height, width = self.frame_size()
        self._unreadable[index] = np.full((height, width, 3), GREY, np.uint8)
        self.error.emit(message)
        self._on_frame_loaded(index)

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
            self._caption_group = object()
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
        """Delete an object from every frame (in a worker when it is on many frames)."""
        annotation = self._editable()
        if annotation is None or object_id not in annotation.objects:
            return
        name = f"delete object {object_id}"
        self.hidden.discard(object_id)  # the current object moves on in _on_change
        self.jobs.run(name, annotation,
                      lambda progress: annotation.prepare_remove(object_id, progress, name),
                      annotation.frame_count(object_id))

    def merge_objects(self, ids: list[int]) -> None:
        """The objects `ids[1:]` become `ids[0]` on every frame."""
        annotation = self._editable()
        if annotation is None or len(ids) < 2:
            return
        keep, absorbed = ids[0], ids[1:]
        name = f"merge objects {', '.join(map(str, absorbed))} into {keep}"
        self.current_object = keep
        self.jobs.run(name, annotation,
                      lambda progress: annotation.prepare_merge(keep, absorbed, progress, name),
                      sum(annotation.frame_count(i) for i in absorbed))

    def update_object(self, object_id: int, *, category: str | None = None,
                      caption: str | None = None,
                      colour: tuple[int, int, int] | None = None,
                      typing: bool = False) -> None:
        """Change an object's details. Caption changes of one typing session (`typing`:
        more is coming) are one undo step."""
        annotation = self._editable()
        if annotation is None:
            return
        what = "caption" if caption is not None else "category" if category is not None \
            else "colour"
        group = self._caption_group if caption is not None else None
        with annotation.transaction(f"{what} of object {object_id}", group):
            annotation.update_object(object_id, category=category, caption=caption,
                                     colour=colour)
        self.history_changed.emit()
        if caption is not None and not typing:
            self._caption_group = object()

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

    def candidate(self) -> np.ndarray | None:
        """The candidate mask as accepting it would set it: with protection on, without the
        pixels of other objects."""
        mask, annotation = self.clicker.mask(), self.annotation
        if mask is None or annotation is None or not self.prefs.protect:
            return mask
        labels = annotation.label_map(self.index)
        free: np.ndarray = mask & ((labels == 0) | (labels == self.current_object))
        return free

    def accept_candidate(self) -> None:
        """The candidate becomes the current object's mask on this frame (a keyframe)."""
        mask, target = self.clicker.mask(), self._target()
        if mask is not None and target is not None:
            with self._named("accept mask"):
                replace_mask(*target, mask, protect=self.prefs.protect)
            self.clicker.reset()

    def paint(self, mask: np.ndarray, what: str = "brush stroke") -> None:
        annotation = self._editable()
        obj = self._ensure_object() if annotation is not None and mask.any() else None
        if annotation is not None and obj is not None:
            with self._named(what):
                annotation.paint(self.index, obj, mask, protect=self.prefs.protect)

    def erase(self, mask: np.ndarray) -> None:
        """Erase the current object under the stroke (every object when none is selected)."""
        annotation = self._editable()
        if annotation is not None and mask.any():
            with self._named("eraser stroke"):
                annotation.erase(self.index, mask, self.current_object)

    def fill_holes(self) -> None:
        target = self._target()
        if target is not None:
            with self._named("fill holes"):
                fill_holes(*target, protect=self.prefs.protect)

    def clear_object(self) -> None:
        target = self._target()
        if target is not None:
            with self._named("clear"):
                clear_object(*target)

    def set_protect(self, on: bool) -> None:
        """Whether a stroke, a candidate or a new object's propagation may take the pixels
        of other objects (off) or only background (on)."""
        self.prefs.protect = on
        self.clicker.candidates_changed.emit()

    @contextlib.contextmanager
    def _named(self, what: str) -> Iterator[None]:
        """The undo step of an edit here, named for the Undo menu."""
        annotation = self.annotation
        assert annotation is not None
        obj = f"object {self.current_object}, " if self.current_object is not None else ""
        with annotation.transaction(f"{what} ({obj}frame {self.index + 1})"):
            yield
        self.history_changed.emit()

    # ---- propagation and undo ------------------------------------------------------------
    def propagate(self, direction: Direction, object_ids: list[int] | None = None,
                  end: int | None = None) -> None:
        """Carry masks from the current frame (and every keyframe) forward, backward or both
        (up to frame index `end`, one direction only), for `object_ids` (None or empty:
        every object)."""
        if self.opened is None:
            return
        if self.busy and not self.propagation.running:
            self.message.emit(f"Wait for {self.busy} to finish")
            return
        request = PropagationRequest(self.index, direction, end,
                                     object_ids=tuple(sorted(object_ids or ())) or None)
        self.propagation.start(self.opened, request, self.prefs.worker_cache_bytes,
                               self.prefs.protect)

    def propagate_to(self, end: int, object_ids: list[int] | None = None) -> None:
        """Propagate from the current frame up to frame index `end`, whichever way it is."""
        if end == self.index:
            self.message.emit("Choose a frame other than this one to propagate to")
            return
        direction: Direction = "forward" if end > self.index else "backward"
        self.propagate(direction, object_ids, end)

    def _on_propagation_started(self, total: int) -> None:
        self.review.propagating = True  # frames stream in: the review rescores in its worker
        self.busy_changed.emit()

    def _on_propagation_finished(self, cancelled: bool) -> None:
        self.review.propagating = False
        self.masks_changed.emit()
        self.autosaver.schedule(0)
        self.busy_changed.emit()

    @property
    def can_undo(self) -> bool:
        annotation = self.annotation
        return annotation is not None and annotation.can_undo and not self.busy

    @property
    def can_redo(self) -> bool:
        annotation = self.annotation
        return annotation is not None and annotation.can_redo and not self.busy

    def undo(self) -> None:
        annotation = self.annotation
        step = None if annotation is None else annotation.history.next_undo
        if self.can_undo and annotation is not None and step is not None:
            self.jobs.run(f"undo {step.name}", annotation, annotation.prepare_undo,
                          step.frame_patches)

    def redo(self) -> None:
        annotation = self.annotation
        step = None if annotation is None else annotation.history.next_redo
        if self.can_redo and annotation is not None and step is not None:
            self.jobs.run(f"redo {step.name}", annotation, annotation.prepare_redo,
                          step.frame_patches)

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
        if self.busy and self.annotation is not None:
            self.message.emit(f"Wait for {self.busy} to finish (or cancel it) to edit")
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
        self.downloads.shutdown()
        self.frames.shutdown()
        self.jobs.shutdown()
        self.autosaver.shutdown()
