"""The controller between the widgets and the layers below: the open video, its annotation,
the current frame and object, and the workers that run models and saves. Every action is a call
into annotator.annotation, annotator.engine or annotator.formats."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal
from scipy import ndimage

from annotator.annotation import ChangeEvent, VideoAnnotation
from annotator.annotation.project import Project
from annotator.engine.device import describe_device, pick_device
from annotator.engine.weights import ENV_FOLDER
from annotator.errors import AnnotatorError
from annotator.formats.palette import davis_palette, object_colour
from annotator.gui.autosave import Autosaver
from annotator.gui.click_control import ClickControl
from annotator.gui.dataset_dialog import VideoProgress
from annotator.gui.object_panel import ObjectRow
from annotator.gui.propagation_control import PropagationControl
from annotator.gui.review_control import ReviewControl
from annotator.gui.settings import Preferences
from annotator.gui.timeline import TimelineRow, from_annotation_codes
from annotator.gui.workers import TaskQueue, describe_failure
from annotator.video.dataset import Dataset, open_dataset
from annotator.video.source import FrameSource

DECODE_AHEAD = 3  # frames decoded ahead of the current one


class Controller(QObject):
    """State of the session and every action a person can take on it."""

    video_opened = pyqtSignal(str)
    dataset_opened = pyqtSignal(object)  # a Dataset with several videos: pick one
    frame_changed = pyqtSignal(int)
    masks_changed = pyqtSignal()
    objects_changed = pyqtSignal()
    candidates_changed = pyqtSignal()
    engines_changed = pyqtSignal()
    message = pyqtSignal(str)
    error = pyqtSignal(str)
    propagation_started = pyqtSignal(int)
    propagation_progress = pyqtSignal(int, int)
    propagation_finished = pyqtSignal(bool)
    save_state = pyqtSignal(str)
    recovery_available = pyqtSignal(str)

    def __init__(self, prefs: Preferences | None = None) -> None:
        super().__init__()
        self.prefs = prefs or Preferences()
        self.tasks = TaskQueue("vos-tasks", self)
        self.decoder = TaskQueue("vos-frames", self)  # decodes the next frames ahead
        self.dataset: Dataset | None = None
        self.video: str | None = None
        self.opened: tuple[str, str | None] | None = None  # (path opened, video) for reopening
        self.frames: FrameSource | None = None
        self.annotation: VideoAnnotation | None = None
        self.index = 0
        self.current_object: int | None = None
        self.hidden: set[int] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._frame_cache: tuple[int, np.ndarray] | None = None
        self._timeline_cache: list[TimelineRow] | None = None
        self._shown_frame_changed = False
        self.clicker = ClickControl(self)
        self.propagation = PropagationControl(self)
        self.autosaver = Autosaver(self)
        self.review = ReviewControl(self)
        self.apply_preferences(self.prefs)

    # ---- engines -------------------------------------------------------------------------
    def apply_preferences(self, prefs: Preferences) -> None:
        """Take new preferences; the engines reload in their worker threads."""
        self.prefs = prefs
        if prefs.weights_dir:
            os.environ[ENV_FOLDER] = prefs.weights_dir
        device = None if prefs.device == "auto" else prefs.device
        self.clicker.load({"engine": prefs.click_engine, "device": device})
        options = {"engine": prefs.propagation_engine, "device": device}
        if prefs.memory_frames:
            options["memory_frames"] = prefs.memory_frames
        self.propagation.load(options)
        self.engines_changed.emit()

    def engine_summary(self) -> str:
        """One short line for the status bar; `engine_advice` has the whole story."""
        click = _short(self.clicker.description)
        propagation = _short(self.propagation.description)
        hint = "  (Help > Better engines)" if "classic" in click + propagation else ""
        return f"Clicks: {click} | Propagation: {propagation} | Device: {self.device_name()}" \
               f"{hint}"

    def device_name(self) -> str:
        try:
            return describe_device(pick_device(self.prefs.device))
        except AnnotatorError as exc:
            return str(exc)

    def engine_advice(self) -> str:
        advice = [f"Clicks: {self.clicker.description}",
                  f"Propagation: {self.propagation.description}", ""]
        if "classic" in self.clicker.description:
            advice.append("For better click masks add SAM weights: "
                          "`vos-annotator weights download vit_t` (MobileSAM, fast on a CPU) "
                          "or `vos-annotator weights add FILE` for vit_b / vit_l / vit_h.")
        if "classic" in self.propagation.description:
            advice.append("For better propagation add the STCN weights: "
                          "`vos-annotator weights add stcn.pth`.")
        advice.append("Choose engines, device and weights folder in File > Settings.")
        return "\n".join(advice)

    # ---- opening -------------------------------------------------------------------------
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
                   opened_path: str | None = None) -> None:
        """Load a video's frames list and annotation in a worker, then show it."""
        if self.propagation.running:
            self.error.emit("Cancel the running propagation before opening another video.")
            return
        self.message.emit(f"Opening {video}…")
        cache = self.prefs.frame_cache_mb * 2**20
        path = opened_path or str(dataset.root)
        self.tasks.submit(
            lambda: self.autosaver.load(path, video, dataset.split, cache),
            lambda loaded: self._install(dataset, video, loaded, frame, path),
            self.error.emit,
        )

    def _install(self, dataset: Dataset, video: str, loaded: tuple[Project, str], frame: int,
                 opened: str) -> None:
        project, recovery = loaded
        self.close_video()
        self.autosaver.project = project
        frames, annotation = project.frames, project.annotation
        self.dataset, self.video, self.frames, self.annotation = dataset, video, frames, annotation
        self.opened = (opened, video if len(dataset.videos) > 1 else None)
        self.index = min(max(0, frame), len(frames) - 1)
        self.hidden.clear()
        objects = list(annotation.objects)
        self.current_object = objects[0] if objects else None
        self._unsubscribe = annotation.subscribe(self._on_change)
        self._timeline_cache = None
        self.video_opened.emit(f"{video} ({len(frames)} frames)")
        self.objects_changed.emit()
        self._frame_moved()
        self.message.emit(f"Opened {video}: {len(frames)} frames, {len(objects)} objects")
        if recovery:
            self.recovery_available.emit(recovery)

    def close_video(self) -> None:
        self.propagation.abort()
        self.autosaver.flush()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.frames is not None:
            self.frames.close()
        self.frames = self.annotation = None
        self.dataset = self.video = None
        self._frame_cache = None
        self.clicker.clear()

    def recover(self) -> None:
        self.autosaver.recover()

    def discard_recovery(self) -> None:
        self.autosaver.discard_recovery()

    def count_dataset_progress(self, dataset: Dataset, report: Callable[[VideoProgress], None],
                               wanted: Callable[[], bool] = lambda: True) -> None:
        """Count frames and annotated frames of each video in a worker, one report each;
        videos not reached while `wanted()` is true are skipped."""
        for video in dataset.videos:
            self.tasks.submit(lambda v=video: _video_progress(dataset, v) if wanted() else None,
                              lambda progress: progress is not None and report(progress))

    # ---- frames --------------------------------------------------------------------------
    @property
    def frame_count(self) -> int:
        return 0 if self.frames is None else len(self.frames)

    def frame_size(self) -> tuple[int, int]:
        return (0, 0) if self.frames is None else self.frames.size

    def frame_name(self, index: int) -> str:
        return "" if self.frames is None else self.frames.names[index]

    def frame(self) -> np.ndarray | None:
        """The current frame; a grey frame and a message when it cannot be read."""
        if self.frames is None:
            return None
        if self._frame_cache is not None and self._frame_cache[0] == self.index:
            return self._frame_cache[1]
        try:
            frame = self.frames[self.index]
        except AnnotatorError as exc:
            self.error.emit(str(exc))
            height, width = self.frames.size
            frame = np.full((height, width, 3), 96, np.uint8)
        self._frame_cache = (self.index, frame)
        return frame

    def labels(self) -> np.ndarray | None:
        return None if self.annotation is None else self.annotation.label_map(self.index)

    def set_index(self, index: int) -> None:
        if self.frames is None:
            return
        index = min(max(0, int(index)), len(self.frames) - 1)
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
        return [] if self.annotation is None else self.annotation.keyframe_indices()

    def _frame_moved(self) -> None:
        self.clicker.start(self.index, self.frame())
        self.frame_changed.emit(self.index)
        self._decode_ahead()

    def _decode_ahead(self) -> None:
        """Have the frames after this one decoded into the cache by a worker (playback and
        stepping then rarely wait for a decode); one batch at a time."""
        frames = self.frames
        if frames is None or self.decoder.busy:
            return
        ahead = [i for i in range(self.index + 1, min(self.index + 1 + DECODE_AHEAD, len(frames)))
                 if i not in frames.cache]
        if ahead:
            self.decoder.submit(lambda: [frames[i] for i in ahead], None,
                                lambda message: None)  # shown when the frame is visited

    # ---- objects -------------------------------------------------------------------------
    def object_rows(self) -> list[ObjectRow]:
        if self.annotation is None:
            return []
        return [
            ObjectRow(info.id, info.colour, info.category, info.caption,
                      len(self.annotation.frames_with(info.id)))
            for info in self.annotation.objects.values()
        ]

    def colours(self) -> np.ndarray:
        """256 x 3 colours to draw label maps with: each object's own colour."""
        table = davis_palette().copy()
        if self.annotation is not None:
            for info in self.annotation.objects.values():
                table[info.id] = info.colour
        return table

    def object_colour(self, object_id: int | None) -> tuple[int, int, int]:
        if self.annotation is not None and object_id in self.annotation.objects:
            return self.annotation.object(object_id).colour
        return object_colour(object_id or 1)

    def select_object(self, object_id: int) -> None:
        if self.annotation is None or object_id not in self.annotation.objects:
            return
        if object_id != self.current_object:
            self.current_object = object_id
            self.clicker.start(self.index, self.frame())
            self.objects_changed.emit()

    def add_object(self) -> int | None:
        if not self._editable():
            return None
        try:
            info = self.annotation.add_object()
        except ValueError as exc:
            self.error.emit(str(exc))
            return None
        self.current_object = info.id
        self.clicker.start(self.index, self.frame())
        self.objects_changed.emit()
        return info.id

    def delete_object(self, object_id: int) -> None:
        if self._editable():
            self.annotation.remove_object(object_id)
            if self.current_object == object_id:
                remaining = list(self.annotation.objects)
                self.current_object = remaining[0] if remaining else None
            self.hidden.discard(object_id)

    def merge_objects(self, ids: list[int]) -> None:
        if self._editable() and len(ids) > 1:
            with self.annotation.transaction("merge objects"):
                for other in ids[1:]:
                    self.annotation.merge_objects(ids[0], other)
            self.current_object = ids[0]

    def recolour_object(self, object_id: int, colour: tuple[int, int, int]) -> None:
        if self._editable():
            self.annotation.update_object(object_id, colour=colour)

    def set_category(self, object_id: int, category: str) -> None:
        if self._editable():
            self.annotation.update_object(object_id, category=category)

    def set_caption(self, object_id: int, caption: str) -> None:
        if self._editable():
            self.annotation.update_object(object_id, caption=caption)

    def set_visible(self, object_id: int, visible: bool) -> None:
        if visible:
            self.hidden.discard(object_id)
        else:
            self.hidden.add(object_id)
        self.masks_changed.emit()

    # ---- clicks and candidates -----------------------------------------------------------
    @property
    def clicks(self) -> list[tuple[float, float, bool]]:
        return self.clicker.clicks

    @property
    def candidate_count(self) -> int:
        return self.clicker.count

    @property
    def candidate_index(self) -> int:
        return self.clicker.chosen

    def candidate_mask(self) -> np.ndarray | None:
        return self.clicker.mask()

    def candidate_score(self) -> float:
        return self.clicker.score()

    def click(self, x: float, y: float, positive: bool) -> None:
        if not self._inside(x, y) or not self._ensure_object():
            return
        self.clicker.click(x, y, positive)

    def box(self, x0: float, y0: float, x1: float, y1: float) -> None:
        height, width = self.frame_size()
        x0, x1 = sorted((min(max(x0, 0), width - 1), min(max(x1, 0), width - 1)))
        y0, y1 = sorted((min(max(y0, 0), height - 1), min(max(y1, 0), height - 1)))
        if x1 - x0 >= 2 and y1 - y0 >= 2 and self._ensure_object():
            self.clicker.box(x0, y0, x1, y1)

    def choose_candidate(self, candidate: int) -> None:
        self.clicker.choose(candidate)

    def next_candidate(self) -> None:
        if self.clicker.count > 1:
            self.clicker.choose((self.clicker.chosen + 1) % self.clicker.count)

    def undo_click(self) -> None:
        self.clicker.undo()

    def discard_candidate(self) -> None:
        self.clicker.reset()

    def accept_candidate(self) -> None:
        """The candidate becomes the current object's mask on this frame (a keyframe)."""
        mask = self.clicker.mask()
        if mask is None or not self._editable() or self.current_object is None:
            return
        obj = self.current_object
        with self.annotation.transaction("accept mask"):
            self.annotation.erase(self.index, ~mask, obj)
            self.annotation.paint(self.index, obj, mask)
        self.clicker.reset()

    # ---- strokes -------------------------------------------------------------------------
    def paint(self, mask: np.ndarray) -> None:
        if self._editable() and self._ensure_object() and mask.any():
            self.annotation.paint(self.index, self.current_object, mask)

    def erase(self, mask: np.ndarray) -> None:
        """Erase the current object under the stroke (every object when none is selected)."""
        if self._editable() and mask.any():
            self.annotation.erase(self.index, mask, self.current_object)

    def fill_holes(self) -> None:
        if not self._editable() or self.current_object is None:
            return
        current = self.annotation.object_mask(self.index, self.current_object)
        filled = ndimage.binary_fill_holes(current)
        if (filled & ~current).any():
            self.annotation.paint(self.index, self.current_object, filled & ~current)

    def clear_object(self) -> None:
        if not self._editable() or self.current_object is None:
            return
        mask = self.annotation.object_mask(self.index, self.current_object)
        if mask.any():
            self.annotation.erase(self.index, mask, self.current_object)

    # ---- propagation ---------------------------------------------------------------------
    def propagate(self, direction: str, object_ids: list[int] | None = None) -> None:
        """Carry masks from the current frame (and every keyframe) forward, backward or both."""
        if self.annotation is None:
            return
        if self.propagation.running:
            self.message.emit("A propagation is running already")
            return
        self.propagation.start(direction, object_ids)

    def cancel_propagation(self) -> None:
        self.propagation.cancel()

    # ---- undo ----------------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return self.annotation is not None and self.annotation.can_undo \
            and not self.propagation.running

    @property
    def can_redo(self) -> bool:
        return self.annotation is not None and self.annotation.can_redo \
            and not self.propagation.running

    def undo(self) -> None:
        if self.can_undo:
            self.annotation.undo()

    def redo(self) -> None:
        if self.can_redo:
            self.annotation.redo()

    # ---- saving and exports --------------------------------------------------------------
    def save_now(self) -> None:
        self.autosaver.save_now()

    def export(self, kind: str, target: Path) -> None:
        self.autosaver.export(kind, target)

    # ---- timeline ------------------------------------------------------------------------
    def timeline_rows(self) -> list[TimelineRow]:
        if self.annotation is None:
            return []
        if self._timeline_cache is None:
            self._timeline_cache = [
                TimelineRow(info.id, f"{info.id} {info.category}".strip(), info.colour,
                            from_annotation_codes(self.annotation.state_codes(info.id)))
                for info in self.annotation.objects.values()
            ]
        return self._timeline_cache

    # ---- change notifications ------------------------------------------------------------
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
        self.autosaver.changed(event)
        if event.objects_changed:
            self.objects_changed.emit()
        else:
            self.masks_changed.emit()

    # ---- helpers -------------------------------------------------------------------------
    def _editable(self) -> bool:
        if self.annotation is None:
            return False
        if self.propagation.running:
            self.message.emit("Wait for the propagation to finish, or cancel it, to edit")
            return False
        return True

    def _ensure_object(self) -> bool:
        """Make sure there is a current object; add the first one when there is none."""
        if self.annotation is None:
            return False
        if self.current_object is None:
            return self.add_object() is not None
        return True

    def _inside(self, x: float, y: float) -> bool:
        height, width = self.frame_size()
        return 0 <= x < width and 0 <= y < height

    def report_failure(self, exc: BaseException) -> None:
        self.error.emit(describe_failure(exc))

    def shutdown(self) -> None:
        """Stop workers after saving what is unsaved."""
        self.close_video()
        self.clicker.shutdown()
        self.propagation.shutdown()
        self.review.shutdown()
        self.tasks.shutdown()
        self.decoder.shutdown()
        self.autosaver.shutdown()


def _short(description: str, limit: int = 48) -> str:
    """An engine description without its advice, cut to `limit` characters."""
    text = description.split(";")[0].split(" (no ")[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _video_progress(dataset: Dataset, video: str) -> VideoProgress:
    with dataset.frames(video, cache_bytes=0) as frames:
        count = len(frames)
    return VideoProgress(video, count, len(dataset.mask_paths(video)))

