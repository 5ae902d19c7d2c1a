"""The in-memory annotation of one video: objects, label maps, frame states, undo and redo."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import cv2
import numpy as np

from annotator.annotation.events import ChangeEvent, ChangeReason, Listener
from annotator.annotation.history import (
    History,
    LabelPatch,
    Meta,
    MetaPatch,
    ObjectPatch,
    Patch,
    StatePatch,
    Step,
    UndoGroup,
)
from annotator.annotation.marks import QAMark
from annotator.annotation.objects import (
    MAX_OBJECT_ID,
    MIN_OBJECT_ID,
    STATE_CODES,
    STATES_BY_CODE,
    FrameState,
    ObjectInfo,
    check_object_id,
)
from annotator.annotation.prepared import (
    Mode,
    PackedFrame,
    PreparedChange,
    Progress,
    label_patch,
    pack,
    relabel,
    replay,
)
from annotator.annotation.serialization import SavedState, decode_state, encode_state
from annotator.annotation.storage import LabelStore, decompress, object_ids_in
from models.protocols import VOID

_EMPTY = STATE_CODES[FrameState.EMPTY]
_KEYFRAME = STATE_CODES[FrameState.KEYFRAME]
_PROPAGATED = STATE_CODES[FrameState.PROPAGATED]
_EDITED = STATE_CODES[FrameState.EDITED]
# Which state wins when two objects merge: keyframe > edited > propagated > empty (by code).
_MERGE_RANK = np.array([0, 3, 1, 2], dtype=np.uint8)
# A prepared change committed in slices swaps at most this many frames per slice (each slice's
# change event makes listeners, such as the journal, write those frames).
COMMIT_FRAMES_PER_SLICE = 64


class _Pending:
    """What the operation in progress has touched, for its change event."""

    def __init__(self, reason: ChangeReason) -> None:
        self.reason = reason
        self.frames: set[int] = set()
        self.objects: set[int] = set()
        self.objects_changed = False

    def event(self) -> ChangeEvent | None:
        if not (self.frames or self.objects or self.objects_changed):
            return None
        return ChangeEvent(
            self.reason, frozenset(self.frames), frozenset(self.objects), self.objects_changed
        )


class VideoAnnotation:
    """Objects, one label map per frame, per-object frame states, undo/redo, notifications.

    Label maps are H x W uint8 (0 background, 1..254 objects, 255 void), kept compressed per
    frame. Every change is one undo step unless grouped with `transaction(name)`. Listeners
    added with `subscribe` get a `ChangeEvent` after each operation (on the calling thread).
    What is not saved yet is kept here and only here: `begin_save` hands it to a saver,
    `mark_unsaved` gives back what a saver could not write.
    """

    def __init__(
        self,
        frame_names: Sequence[str],
        height: int,
        width: int,
        *,
        max_undo_bytes: int = 256 * 2**20,
        max_undo_steps: int = 1000,
    ) -> None:
        if not frame_names:
            raise ValueError("a video annotation needs at least one frame")
        self.frame_names = list(frame_names)
        self.height = int(height)
        self.width = int(width)
        self.history = History(max_undo_bytes, max_undo_steps)
        self._dirty_frames: set[int] = set()
        self._meta_dirty = False
        self.marks: dict[int, QAMark] = {}
        self._meta_revision = 0
        self._store = LabelStore(len(self.frame_names), self.height, self.width)
        self._objects: dict[int, ObjectInfo] = {}
        self._states: dict[int, np.ndarray] = {}
        self._listeners: list[Listener] = []
        self._lock = threading.RLock()
        self._pending: _Pending | None = None
        self._confidence: dict[int, np.ndarray] = {}  # object -> 0..1 per frame, NaN: none
        self._op_depth = 0

    # ----------------------------------------------------------------- reading
    def __len__(self) -> int:
        return len(self.frame_names)

    @property
    def size(self) -> tuple[int, int]:
        return self.height, self.width

    @property
    def objects(self) -> dict[int, ObjectInfo]:
        """Object id -> details, in id order (a copy)."""
        with self._lock:
            return dict(sorted(self._objects.items()))

    def object(self, object_id: int) -> ObjectInfo:
        try:
            return self._objects[object_id]
        except KeyError:
            raise KeyError(f"no object {object_id}") from None

    def label_map(self, index: int) -> np.ndarray:
        """A copy of frame `index`'s label map."""
        with self._lock:
            return self._store.get(self._index(index)).copy()

    def object_mask(self, index: int, object_id: int) -> np.ndarray:
        """Bool H x W mask of one object on one frame."""
        with self._lock:
            mask: np.ndarray = self._store.get(self._index(index)) == object_id
            return mask

    def objects_on(self, index: int) -> frozenset[int]:
        """Ids with pixels on frame `index`."""
        return self._store.present(self._index(index))

    def compressed_label_map(self, index: int) -> bytes | None:
        """zlib bytes of the raw label map (None when all background), for journals."""
        return self._store.compressed(self._index(index))

    def _read(self, index: int) -> np.ndarray:
        """Frame `index` decompressed from the store, without touching its working set (safe
        in a worker while another thread edits other frames)."""
        data = self._store.compressed(index)
        return np.zeros(self.size, np.uint8) if data is None else decompress(data, self.size)

    def state(self, index: int, object_id: int) -> FrameState:
        index = self._index(index)
        states = self._states.get(object_id)
        if states is None:
            raise KeyError(f"no object {object_id}")
        return STATES_BY_CODE[int(states[index])]

    def state_codes(self, object_id: int) -> np.ndarray:
        """uint8 array of one object's state per frame; decode with `STATES_BY_CODE`."""
        return self._states[object_id].copy()

    def keyframe_indices(self, object_ids: Iterable[int] | None = None) -> list[int]:
        """Frames where a person made or fixed (keyframe or edited) any of `object_ids` (ids
        of no object have none)."""
        ids = self._objects if object_ids is None else set(object_ids) & set(self._states)
        by_person = np.zeros(len(self), dtype=bool)
        for object_id in ids:
            codes = self._states[object_id]
            by_person |= (codes == _KEYFRAME) | (codes == _EDITED)
        return np.flatnonzero(by_person).tolist()

    def confidence(self, index: int) -> dict[int, float]:
        """Object id -> the propagating engine's confidence (0..1) in its mask on frame
        `index`, for the objects whose mask there is still the propagated one."""
        with self._lock:
            index = self._index(index)
            return {o: float(values[index]) for o, values in self._confidence.items()
                    if not np.isnan(values[index]) and o in self._states
                    and self._states[o][index] == _PROPAGATED}

    def low_confidence(self, object_id: int, below: float) -> np.ndarray:
        """Bool per frame: the object's mask there is still the propagated one and the engine's
        confidence in it is under `below`."""
        with self._lock:
            values, states = self._confidence.get(object_id), self._states.get(object_id)
            if values is None or states is None:
                return np.zeros(len(self), dtype=bool)
            doubted: np.ndarray = (values < below) & (states == _PROPAGATED)
            return doubted

    def keyframes(self, object_ids: Iterable[int] | None = None) -> dict[int, np.ndarray]:
        """Frame index -> label map (copy) for every frame of `keyframe_indices`."""
        return {i: self.label_map(i) for i in self.keyframe_indices(object_ids)}

    def frame_range(self, object_id: int) -> tuple[int, int] | None:
        """First and last frame index where the object has pixels, or None."""
        frames = self._store.frames_with(object_id)
        return (frames[0], frames[-1]) if frames else None

    def frames_with(self, object_id: int) -> list[int]:
        """Frames where the object has pixels (a scan of the video: run it in a worker)."""
        return self._store.frames_with(object_id)

    def frame_count(self, object_id: int) -> int:
        """How many frames hold the object's pixels (kept up to date, no scan)."""
        return self._store.frame_count(object_id)

    @property
    def can_undo(self) -> bool:
        return self.history.can_undo

    @property
    def can_redo(self) -> bool:
        return self.history.can_redo

    @property
    def is_dirty(self) -> bool:
        """True when something changed since it was last handed to a saver."""
        return bool(self._dirty_frames) or self._meta_dirty

    @property
    def dirty_frames(self) -> frozenset[int]:
        """Frames whose label maps changed since they were last handed to a saver."""
        with self._lock:
            return frozenset(self._dirty_frames)

    @property
    def meta_dirty(self) -> bool:
        """Whether objects, states or marks changed since they were last handed to a saver."""
        return self._meta_dirty

    @property
    def meta_revision(self) -> int:
        """A counter that grows whenever objects, states or marks change (so that a
        journal writes `state_dict()` only when it differs from the last one written)."""
        return self._meta_revision

    @property
    def nbytes(self) -> int:
        """Memory held by label maps and undo history (approximate)."""
        return self._store.nbytes + self.history.nbytes

    # ------------------------------------------------------------ notifications
    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call `callback(event)` after every change; returns a function that unsubscribes."""
        self._listeners.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return unsubscribe

    def _emit(self, event: ChangeEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    @contextlib.contextmanager
    def transaction(self, name: str, group: UndoGroup | None = None) -> Iterator[None]:
        """Group every change made inside into one undo step called `name`; transactions of
        one `group` (any object) that follow each other make one step together, so work done
        in slices over time (a propagation pass) is undone at once."""
        with self._lock:
            self.history.begin(name, group)
            try:
                yield
            finally:
                self.history.end()

    @contextlib.contextmanager
    def _operation(self, reason: ChangeReason) -> Iterator[_Pending]:
        event = None
        with self._lock:
            outer = self._op_depth == 0
            if outer:
                self._pending = _Pending(reason)
            assert self._pending is not None
            self._op_depth += 1
            self.history.begin(reason)
            try:
                yield self._pending
            finally:
                self.history.end()
                self._op_depth -= 1
                if outer:
                    event, self._pending = self._pending.event(), None
        if event is not None:
            self._emit(event)

    # ------------------------------------------------------------------ objects
    def add_object(
        self,
        category: str = "",
        caption: str = "",
        object_id: int | None = None,
        colour: tuple[int, int, int] | None = None,
    ) -> ObjectInfo:
        """Create an object; the lowest free id unless `object_id` is given."""
        with self._operation(ChangeReason.ADD_OBJECT):
            if object_id is None:
                object_id = self._free_id()
            check_object_id(object_id)
            if object_id in self._objects:
                raise ValueError(f"object {object_id} already exists")
            info = ObjectInfo(object_id, category, caption, colour or (0, 0, 0))
            self._put_object(info, np.zeros(len(self), np.uint8))
            return info

    def remove_object(self, object_id: int) -> None:
        """Delete an object and its pixels on every frame."""
        self.commit(self.prepare_remove(object_id))

    def merge_objects(self, keep_id: int, absorbed_id: int) -> None:
        """`absorbed_id`'s pixels become `keep_id`'s on every frame; `absorbed_id` is removed."""
        self.commit(self.prepare_merge(keep_id, [absorbed_id]))

    def prepare_remove(self, object_id: int, progress: Progress | None = None,
                       name: str = ChangeReason.REMOVE_OBJECT) -> PreparedChange:
        """`remove_object` computed, not applied: reads frames only (a worker may run it
        while this thread shows frames); `commit` applies it."""
        with self._lock:
            info = self.object(object_id)
            states = self._states[object_id].copy()
        table = np.arange(256, dtype=np.uint8)
        table[object_id] = 0
        patches, frames = relabel(self._read, self.frames_with(object_id), table, progress)
        step = Step(name)
        for patch in patches:
            step.add(patch)
        step.add(ObjectPatch(object_id, info, None, states, None))
        return PreparedChange(step, "do", ChangeReason.REMOVE_OBJECT, frames)

    def prepare_merge(self, keep_id: int, absorbed_ids: Sequence[int],
                      progress: Progress | None = None,
                      name: str = ChangeReason.MERGE_OBJECTS) -> PreparedChange:
        """Merging `absorbed_ids` into `keep_id`, computed as `prepare_remove` is."""
        if keep_id in absorbed_ids:
            raise ValueError("cannot merge an object with itself")
        with self._lock:
            self.object(keep_id)
            infos = [self.object(i) for i in absorbed_ids]
            kept = self._states[keep_id].copy()
            others = [self._states[i].copy() for i in absorbed_ids]
        table = np.arange(256, dtype=np.uint8)
        table[list(absorbed_ids)] = keep_id
        indices = sorted(set().union(*(self.frames_with(i) for i in absorbed_ids)))
        patches, frames = relabel(self._read, indices, table, progress)
        merged = kept
        for other in others:
            merged = np.where(_MERGE_RANK[merged] >= _MERGE_RANK[other], merged, other)
        changed = np.flatnonzero(merged != kept)
        step = Step(name)
        for patch in patches:
            step.add(patch)
        if changed.size:
            step.add(StatePatch(keep_id, changed, kept[changed], merged[changed]))
        for info, states in zip(infos, others, strict=True):
            step.add(ObjectPatch(info.id, info, None, states, None))
        return PreparedChange(step, "do", ChangeReason.MERGE_OBJECTS, frames)

    def update_object(
        self,
        object_id: int,
        *,
        category: str | None = None,
        caption: str | None = None,
        colour: tuple[int, int, int] | None = None,
    ) -> ObjectInfo:
        """Change an object's category, caption or colour."""
        with self._operation(ChangeReason.EDIT_OBJECT) as pending:
            before = self.object(object_id)
            after = ObjectInfo(
                object_id,
                before.category if category is None else category,
                before.caption if caption is None else caption,
                before.colour if colour is None else (int(colour[0]), int(colour[1]),
                                                      int(colour[2])),
            )
            if after != before:
                self.history.record(ObjectPatch(object_id, before, after))
                self._objects[object_id] = after
                self._meta_changed()
                pending.objects.add(object_id)
                pending.objects_changed = True
            return after

    # ------------------------------------------------------------------ editing
    def paint(
        self,
        index: int,
        object_id: int,
        mask: np.ndarray,
        state: FrameState = FrameState.KEYFRAME,
        protect: bool = False,
    ) -> None:
        """A person's stroke: `object_id` takes the pixels of `mask` (bool H x W); with
        `protect` only those that are background (other objects and void keep theirs).

        The objects touched get `state`, except that a propagated or edited frame becomes
        `edited` for them.
        """
        index = self._index(index)
        mask = self._check_mask(mask)
        if not mask.any():
            return
        with self._operation(ChangeReason.PAINT):
            self.object(object_id)
            labels = self._store.get(index).copy()
            if protect:
                mask = mask & ((labels == 0) | (labels == object_id))
                if not mask.any():
                    return
            touched = object_ids_in(labels[mask]) | {object_id}
            labels[mask] = object_id
            self._write_labels(index, labels)
            self._touch_by_person(index, touched, state)

    def erase(self, index: int, mask: np.ndarray, object_id: int | None = None) -> None:
        """A person's eraser: pixels of `mask` become background (only `object_id`'s if given)."""
        index = self._index(index)
        mask = self._check_mask(mask)
        with self._operation(ChangeReason.ERASE):
            labels = self._store.get(index).copy()
            if object_id is not None:
                self.object(object_id)
                mask = mask & (labels == object_id)
            touched = object_ids_in(labels[mask])
            labels[mask] = 0
            self._write_labels(index, labels)
            self._touch_by_person(index, touched, FrameState.KEYFRAME)

    def set_label_map(
        self, index: int, labels: np.ndarray, state: FrameState = FrameState.KEYFRAME
    ) -> None:
        """A person sets a whole frame; unknown ids become new objects."""
        index = self._index(index)
        labels = self._check_labels(labels)
        with self._operation(ChangeReason.SET_FRAME):
            new_ids = object_ids_in(labels)
            for object_id in sorted(new_ids - self._objects.keys()):
                self._put_object(ObjectInfo(object_id), np.zeros(len(self), np.uint8))
            touched = new_ids | self._store.present(index)
            self._write_labels(index, labels.copy())
            self._touch_by_person(index, touched, state)

    def set_state(self, index: int, object_id: int, state: FrameState) -> None:
        """Set one object's state on one frame (e.g. promote an edited frame to a keyframe)."""
        index = self._index(index)
        with self._operation(ChangeReason.SET_STATE):
            self.object(object_id)
            self._set_codes(object_id, np.array([index]), np.array([STATE_CODES[state]], np.uint8))

    def apply_propagated(
        self,
        index: int,
        labels: np.ndarray,
        object_ids: Iterable[int] | None = None,
        confidence: Mapping[int, float] | None = None,
        protect: bool = False,
    ) -> None:
        """Take a propagation result for frame `index`.

        Only the objects in `object_ids` (default: all) are taken from `labels`; where one of
        them is a keyframe or edited on this frame it keeps its pixels, as do objects outside
        `object_ids` and void. The others become `propagated` where they have pixels, else
        `empty`. Ids in `labels` that are no (longer an) object are dropped. With `protect`,
        an object new to this frame (empty here before) takes only background: pixels another
        object holds stay that object's. The engine's `confidence` in the objects taken is
        kept for `confidence` (and saved with the state).
        """
        index = self._index(index)
        labels = self._check_labels(labels)
        with self._operation(ChangeReason.PROPAGATE):
            covered = (
                set(self._objects) if object_ids is None else set(object_ids) & set(self._objects)
            )
            fixed = {
                o
                for o in self._objects
                if o not in covered or STATES_BY_CODE[int(self._states[o][index])].by_person
            }
            current = self._store.get(index)
            result = labels.copy()
            allowed = np.zeros(256, dtype=np.uint8)  # ids taken from the propagation
            allowed[[0, VOID, *(covered - fixed)]] = 1
            result[cv2.LUT(result, allowed) == 0] = 0
            keep = np.zeros(256, dtype=np.uint8)  # ids whose current pixels stay
            keep[[VOID, *fixed]] = 1
            kept = cv2.LUT(current, keep).view(bool)
            result[kept] = current[kept]
            newcomers = [o for o in covered - fixed
                         if protect and self._states[o][index] == _EMPTY]
            if newcomers:
                new = np.zeros(256, dtype=np.uint8)
                new[newcomers] = 1
                taken = cv2.LUT(result, new).view(bool) & (current != 0) & (current != result)
                result[taken] = current[taken]
            self._write_labels(index, result)
            present = object_ids_in(result)
            frame = np.array([index])
            for object_id in sorted(covered - fixed):
                code = _PROPAGATED if object_id in present else _EMPTY
                self._set_codes(object_id, frame, np.array([code], np.uint8))
            if confidence is not None:
                self._keep_confidence(index, {o: confidence[o] for o in covered - fixed
                                              if o in confidence})

    def _keep_confidence(self, index: int, scores: Mapping[int, float]) -> None:
        changed = False
        for object_id, score in scores.items():
            values = self._confidence.get(object_id)
            if values is None:
                values = self._confidence[object_id] = np.full(len(self), np.nan)
            if values[index] != score:
                values[index] = score
                changed = True
        if changed:
            self._meta_changed()

    def set_mark(self, index: int, mark: QAMark | None) -> None:
        """Put a reviewer's mark on a frame (None removes it); saved with the tool's state."""
        index = self._index(index)
        with self._operation(ChangeReason.MARK) as pending:
            if mark is not None:
                self.marks[index] = mark
            else:
                self.marks.pop(index, None)
            self._meta_changed()
            pending.frames.add(index)

    # ------------------------------------------------------------- undo / redo
    def undo(self) -> bool:
        """Revert the latest step; False when there is none."""
        change = self.prepare_undo()
        return change is not None and self.commit(change)

    def redo(self) -> bool:
        """Apply the latest undone step again; False when there is none."""
        change = self.prepare_redo()
        return change is not None and self.commit(change)

    def prepare_undo(self, progress: Progress | None = None) -> PreparedChange | None:
        """The latest step reverted, computed as `prepare_remove` is; None when there is none."""
        return self._prepare_replay(undo=True, progress=progress)

    def prepare_redo(self, progress: Progress | None = None) -> PreparedChange | None:
        """The latest undone step applied again, computed as `prepare_remove` is."""
        return self._prepare_replay(undo=False, progress=progress)

    def _prepare_replay(self, undo: bool, progress: Progress | None) -> PreparedChange | None:
        with self._lock:
            step = self.history.next_undo if undo else self.history.next_redo
        if step is None:
            return None
        mode: Mode = "undo" if undo else "redo"
        patches = step.patches[::-1] if undo else step.patches
        frames = replay(self._read, patches, undo, progress)
        return PreparedChange(step, mode, ChangeReason.UNDO if undo else ChangeReason.REDO,
                              frames)

    def commit(self, change: PreparedChange, budget_s: float | None = None) -> bool:
        """Apply a prepared change: all of it, or with `budget_s` a slice that takes about
        that long (at most COMMIT_FRAMES_PER_SLICE frames); call again until it returns True.
        Each call sends one change event; the change is one undo step."""
        deadline = None if budget_s is None else time.monotonic() + budget_s
        with self._lock:
            if change.position == 0 and change.mode != "do":
                expected = self.history.next_undo if change.mode == "undo" \
                    else self.history.next_redo
                if expected is not change.step:
                    raise RuntimeError("the undo history changed since the change was prepared")
                (self.history.pop_undo if change.mode == "undo" else self.history.pop_redo)()
            pending = _Pending(change.reason)
            patches, swapped = change.patches, 0
            while not change.done:
                patch = patches[change.position]
                change.position += 1
                if not isinstance(patch, LabelPatch):
                    self._apply_patch(patch, change.mode == "undo", pending)
                elif patch.index not in change.applied:
                    change.applied.add(patch.index)
                    self._put_packed(patch.index, change.frames[patch.index], pending)
                    swapped += 1
                if deadline is not None and (swapped >= COMMIT_FRAMES_PER_SLICE
                                             or time.monotonic() >= deadline):
                    break
            if change.done and change.mode == "do":
                self.history.file(change.step)
            event = pending.event()
        if event is not None:
            self._emit(event)
        return change.done

    def _put_packed(self, index: int, frame: PackedFrame, pending: _Pending) -> None:
        pending.objects |= self._store.present(index) | frame.present
        self._store.put_packed(index, frame.data, frame.present)
        self._dirty_frames.add(index)
        pending.frames.add(index)

    def _apply_patch(self, patch: Patch, undo: bool, pending: _Pending) -> None:
        """An object, state or meta patch (label patches come prepared: `commit`)."""
        if isinstance(patch, MetaPatch):
            meta = patch.before if undo else patch.after
            self._objects = dict(meta.objects)
            self._states = {i: codes.copy() for i, codes in meta.states.items()}
            self.marks = dict(meta.marks)
            self._meta_changed()
            pending.objects |= set(patch.before.objects) | set(patch.after.objects)
            pending.objects_changed = True
        elif isinstance(patch, LabelPatch):
            raise TypeError("label patches are applied prepared")
        elif isinstance(patch, StatePatch):
            self._states[patch.object_id][patch.frames] = patch.before if undo else patch.after
            self._meta_changed()
            pending.frames.update(patch.frames.tolist())
            pending.objects.add(patch.object_id)
        else:
            info = patch.before if undo else patch.after
            states = patch.states_before if undo else patch.states_after
            if info is None:
                self._objects.pop(patch.object_id, None)
                self._states.pop(patch.object_id, None)
                self._confidence.pop(patch.object_id, None)
            else:
                self._objects[patch.object_id] = info
                if states is not None:
                    self._states[patch.object_id] = states.copy()
            self._meta_changed()
            pending.objects.add(patch.object_id)
            pending.objects_changed = True

    # ------------------------------------------------------------ load / save
    def mark_saved(self) -> None:
        """Everything now in memory is on disk."""
        with self._lock:
            self._dirty_frames.clear()
            self._meta_dirty = False

    def begin_save(self) -> tuple[list[int], bool]:
        """Take the changed frames and whether objects/states changed, and mark them clean.

        Changes made while the save runs (from another thread) make them dirty again; call
        `mark_unsaved` with the returned values if the save does not complete.
        """
        with self._lock:
            frames, meta = sorted(self._dirty_frames), self._meta_dirty
            self._dirty_frames.clear()
            self._meta_dirty = False
            return frames, meta

    def mark_unsaved(self, frames: Iterable[int] = (), meta: bool = False) -> None:
        """Count `frames` (and the objects, states and marks when `meta`) as not saved: after
        a failed save, or for work replayed from a journal."""
        with self._lock:
            self._dirty_frames.update(frames)
            self._meta_dirty = self._meta_dirty or meta

    def load_label_map(self, index: int, labels: np.ndarray, state: FrameState) -> None:
        """Put a frame read from disk: no undo step, not dirty, no event; new ids become objects.

        Objects with pixels get `state` unless their state is already set (not empty).
        """
        index = self._index(index)
        labels = self._check_labels(labels)
        present = object_ids_in(labels)
        for object_id in present - self._objects.keys():
            self._objects[object_id] = ObjectInfo(object_id)
            self._states[object_id] = np.zeros(len(self), np.uint8)
        self._store.put(index, labels.copy())
        for object_id in present:
            if self._states[object_id][index] == _EMPTY:
                self._states[object_id][index] = STATE_CODES[state]
        self._meta_revision += 1

    def restore(self, frames: Mapping[int, bytes | None], saved: SavedState | None,
                name: str = "recover unsaved work") -> tuple[int, ...]:
        """Put back work recovered from a journal, as one undo step (undoing it gives the
        video as it was on disk): frames as `compressed_label_map()` bytes, and the objects,
        states and marks of `saved` (objects it does not name are kept). Objects found in the
        frames that no state names come back as keyframe objects without details; their ids
        are returned. Everything restored counts as unsaved. No change event: call
        `notify_loaded` (on the thread that shows the annotation). The lock is taken frame by
        frame, so another thread may show frames meanwhile."""
        step = Step(name)
        for index in sorted(frames):
            data = frames[self._index(index)]
            new = np.zeros(self.size, np.uint8) if data is None else decompress(data, self.size)
            with self._lock:
                patch = label_patch(index, self._read(index), new)
                if patch is not None:
                    step.add(patch)
                    packed = pack(new)
                    self._store.put_packed(index, packed.data, packed.present)
                self._dirty_frames.add(index)
        with self._lock:
            before = self._meta()
            if saved is not None:
                self.load_state_dict(saved)
            recreated: set[int] = set()
            for index in sorted(frames):
                for object_id in self._store.present(index) - self._objects.keys() - recreated:
                    self._objects[object_id] = ObjectInfo(object_id)
                    self._states[object_id] = np.zeros(len(self), np.uint8)
                    recreated.add(object_id)
                for object_id in self._store.present(index) & recreated:
                    self._states[object_id][index] = _KEYFRAME
            step.add(MetaPatch(before, self._meta()))
            self._meta_dirty = self._meta_dirty or saved is not None or bool(recreated)
            self._meta_revision += 1
            self.history.file(step)
        return tuple(sorted(recreated))

    def _meta(self) -> Meta:
        """A copy of every object's details and states, and the marks."""
        return Meta(dict(self._objects), {i: codes.copy() for i, codes in self._states.items()},
                    dict(self.marks))

    def state_dict(self) -> dict[str, Any]:
        """Objects, frame states (run-length coded) and marks as plain JSON-ready data."""
        with self._lock:
            return encode_state(self._objects.values(), self._states, self.marks,
                                self.frame_names, self._confidence)

    def load_state_dict(self, data: dict[str, Any] | SavedState) -> None:
        """Replace objects, states and marks with `state_dict()` data (or that data decoded:
        `decode_state`), no undo step; objects it does not name are kept."""
        saved = data if isinstance(data, SavedState) else decode_state(data, self.frame_names)
        with self._lock:
            kept = set(self._objects) - set(saved.objects)
            self._objects = {**saved.objects, **{i: self._objects[i] for i in kept}}
            self._states = {**saved.states, **{i: self._states[i] for i in kept}}
            self.marks = saved.marks
            self._confidence = {**saved.confidence, **{i: self._confidence[i] for i in kept
                                                       if i in self._confidence}}
            self._meta_revision += 1

    def notify_loaded(self) -> None:
        """Tell listeners that the whole annotation was (re)loaded."""
        everything = frozenset(range(len(self)))
        self._emit(ChangeEvent(ChangeReason.LOAD, everything, frozenset(self._objects), True))

    # ------------------------------------------------------------- internals
    def _index(self, index: int) -> int:
        index = int(index)
        if not 0 <= index < len(self.frame_names):
            raise IndexError(f"frame {index} out of range for {len(self.frame_names)} frames")
        return index

    def _check_mask(self, mask: np.ndarray) -> np.ndarray:
        mask = np.asarray(mask)
        if mask.shape != self.size:
            raise ValueError(f"mask is {mask.shape}, frames are {self.size}")
        return mask.astype(bool, copy=False)

    def _check_labels(self, labels: np.ndarray) -> np.ndarray:
        labels = np.asarray(labels)
        if labels.shape != self.size or labels.dtype != np.uint8:
            raise ValueError(
                f"label map must be uint8 {self.size}, got {labels.dtype} {labels.shape}"
            )
        return labels

    def _free_id(self) -> int:
        for object_id in range(MIN_OBJECT_ID, MAX_OBJECT_ID + 1):
            if object_id not in self._objects:
                return object_id
        raise ValueError(f"all {MAX_OBJECT_ID} object ids are in use")

    def _meta_changed(self) -> None:
        self._meta_dirty = True
        self._meta_revision += 1

    def _put_object(self, info: ObjectInfo, states: np.ndarray) -> None:
        self.history.record(ObjectPatch(info.id, None, info, None, states.copy()))
        self._objects[info.id] = info
        self._states[info.id] = states
        self._meta_changed()
        assert self._pending is not None
        self._pending.objects.add(info.id)
        self._pending.objects_changed = True

    def _write_labels(self, index: int, labels: np.ndarray) -> None:
        """Store `labels` (owned) as frame `index`, recording the changed box for undo."""
        old = self._store.get(index)
        patch = label_patch(index, old, labels)
        if patch is None:
            return
        self.history.record(patch)
        y0, y1, x0, x1 = patch.box
        before, after = old[y0:y1, x0:x1], labels[y0:y1, x0:x1]
        assert self._pending is not None
        # the objects in the changed box (a superset of those whose pixels changed)
        self._pending.objects |= object_ids_in(before) | object_ids_in(after)
        self._pending.frames.add(index)
        self._store.put(index, labels)
        self._dirty_frames.add(index)

    def _set_codes(self, object_id: int, frames: np.ndarray, codes: np.ndarray) -> None:
        states = self._states[object_id]
        before = states[frames]
        differ = before != codes
        if not differ.any():
            return
        frames, before, codes = frames[differ], before[differ], codes[differ]
        self.history.record(StatePatch(object_id, frames.copy(), before.copy(), codes.copy()))
        states[frames] = codes
        self._meta_changed()
        assert self._pending is not None
        self._pending.objects.add(object_id)
        self._pending.frames.update(frames.tolist())

    def _touch_by_person(self, index: int, object_ids: Iterable[int], state: FrameState) -> None:
        frame = np.array([index])
        for object_id in sorted(object_ids):
            if object_id not in self._states:
                continue
            current = self._states[object_id][index]
            code = _EDITED if current in (_PROPAGATED, _EDITED) else STATE_CODES[state]
            self._set_codes(object_id, frame, np.array([code], np.uint8))
