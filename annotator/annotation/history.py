"""Undo and redo: each step is a list of small reversible patches, the total bounded in bytes."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from annotator.annotation.marks import QAMark
from annotator.annotation.objects import ObjectInfo

# Rough fixed cost of one patch object (Python object and array headers), for the byte budget.
_PATCH_OVERHEAD = 160
UndoGroup = object  # any object; steps of one group that follow each other are merged


@dataclass(frozen=True)
class LabelPatch:
    """The box (y0, y1, x0, x1) of one frame's label map before and after, zlib-compressed."""

    index: int
    box: tuple[int, int, int, int]
    before: bytes
    after: bytes

    @property
    def nbytes(self) -> int:
        return len(self.before) + len(self.after) + _PATCH_OVERHEAD


@dataclass(frozen=True)
class StatePatch:
    """One object's state codes on some frames, before and after."""

    object_id: int
    frames: np.ndarray
    before: np.ndarray
    after: np.ndarray

    @property
    def nbytes(self) -> int:
        return self.frames.nbytes + self.before.nbytes + self.after.nbytes + _PATCH_OVERHEAD


@dataclass(frozen=True)
class ObjectPatch:
    """An object added (before None), removed (after None) or changed; with its state codes."""

    object_id: int
    before: ObjectInfo | None
    after: ObjectInfo | None
    states_before: np.ndarray | None = None
    states_after: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        arrays = (self.states_before, self.states_after)
        return sum(a.nbytes for a in arrays if a is not None) + _PATCH_OVERHEAD


@dataclass(frozen=True)
class Meta:
    """Every object's details and state codes, and the QA marks, at one moment."""

    objects: dict[int, ObjectInfo]
    states: dict[int, np.ndarray]
    marks: dict[int, QAMark]

    @property
    def nbytes(self) -> int:
        return sum(codes.nbytes for codes in self.states.values()) + 100 * len(self.objects)


@dataclass(frozen=True)
class MetaPatch:
    """Objects, states and marks replaced whole (a recovery that loaded a saved state)."""

    before: Meta
    after: Meta

    @property
    def nbytes(self) -> int:
        return self.before.nbytes + self.after.nbytes + _PATCH_OVERHEAD


Patch = LabelPatch | StatePatch | ObjectPatch | MetaPatch


@dataclass
class Step:
    """One undoable action: patches in the order they were made."""

    name: str
    group: UndoGroup | None = None
    patches: list[Patch] = field(default_factory=list)
    nbytes: int = 0

    def add(self, patch: Patch) -> None:
        self.patches.append(patch)
        self.nbytes += patch.nbytes

    @property
    def frame_patches(self) -> int:
        """How many label patches the step holds (about the frames it touches)."""
        return sum(isinstance(patch, LabelPatch) for patch in self.patches)


class History:
    """Undo and redo stacks; the oldest steps are dropped beyond `max_bytes` or `max_steps`.

    The step in progress and the latest finished step are always kept, whatever their size.
    """

    def __init__(self, max_bytes: int = 256 * 2**20, max_steps: int = 1000) -> None:
        self.max_bytes = max_bytes
        self.max_steps = max_steps
        self._undo: deque[Step] = deque()
        self._redo: deque[Step] = deque()
        self._open: Step | None = None
        self._depth = 0
        self._nbytes = 0

    @property
    def nbytes(self) -> int:
        """Bytes held by all finished steps on both stacks."""
        return self._nbytes

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_name(self) -> str | None:
        return self._undo[-1].name if self._undo else None

    @property
    def redo_name(self) -> str | None:
        return self._redo[-1].name if self._redo else None

    @property
    def next_undo(self) -> Step | None:
        """The step `pop_undo` would give (None while a step is open or none is left)."""
        return self._undo[-1] if self._undo and self._open is None else None

    @property
    def next_redo(self) -> Step | None:
        """The step `pop_redo` would give."""
        return self._redo[-1] if self._redo and self._open is None else None

    @property
    def recording(self) -> bool:
        return self._open is not None

    def begin(self, name: str, group: UndoGroup | None = None) -> None:
        """Open a step (or nest inside the open one: the outermost name and group win).

        A step of a `group` (any object, such as one per propagation pass) filed right after
        a step of the same group joins it: work spread over many calls is one undo step.
        """
        if self._depth == 0:
            self._open = Step(name, group)
        self._depth += 1

    def end(self) -> None:
        """Close the innermost `begin`; the outermost close files a non-empty step."""
        self._depth -= 1
        if self._depth > 0:
            return
        step, self._open = self._open, None
        if step is not None:
            self.file(step)

    def file(self, step: Step) -> None:
        """File a finished step (made elsewhere, such as in a worker): it joins the open step
        when one is open, else it is filed as `end` files one; an empty step is dropped."""
        if not step.patches:
            return
        if self._open is not None:
            for patch in step.patches:
                self._open.add(patch)
            return
        last = self._undo[-1] if self._undo and not self._redo else None
        if last is not None and step.group is not None and last.group is step.group:
            for patch in step.patches:
                last.add(patch)
        else:
            self._undo.append(step)
        self._nbytes += step.nbytes
        for dropped in self._redo:
            self._nbytes -= dropped.nbytes
        self._redo.clear()
        self._trim()

    def record(self, patch: Patch) -> None:
        if self._open is None:
            raise RuntimeError("record() outside begin()/end()")
        self._open.add(patch)

    def pop_undo(self) -> Step | None:
        """The step to revert; it moves to the redo stack."""
        return self._move(self._undo, self._redo)

    def pop_redo(self) -> Step | None:
        """The step to apply again; it moves to the undo stack."""
        return self._move(self._redo, self._undo)

    def _move(self, source: deque[Step], target: deque[Step]) -> Step | None:
        if self._open is not None or not source:
            return None
        step = source.pop()
        target.append(step)
        return step

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()
        self._nbytes = 0

    def _trim(self) -> None:
        while len(self._undo) > 1 and (
            self._nbytes > self.max_bytes or len(self._undo) > self.max_steps
        ):
            self._nbytes -= self._undo.popleft().nbytes
