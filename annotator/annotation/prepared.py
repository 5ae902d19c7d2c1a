"""Changes to many frames, computed away from the thread that owns the annotation.

Deleting or merging an object, and undoing or redoing a large step, costs a decompression and
a compression per frame. `VideoAnnotation.prepare_*` computes that (in a worker, reading the
frames only); the result, a `PreparedChange`, holds every frame's final label map already
compressed, so `VideoAnnotation.commit` only swaps them in, a slice at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from annotator.annotation.events import ChangeReason
from annotator.annotation.history import LabelPatch, Patch, Step
from annotator.annotation.storage import compress, decompress, object_ids_in

Progress = Callable[[int, int], None]  # (frames done, frames to do)
ReadFrame = Callable[[int], np.ndarray]  # frame index -> its label map (not changed)
Mode = Literal["do", "undo", "redo"]


@dataclass(frozen=True)
class PackedFrame:
    """A label map as the store keeps it: zlib bytes (None: all background) and its ids."""

    data: bytes | None
    present: frozenset[int]


@dataclass
class PreparedChange:
    """`step`'s patches in the order they apply (reversed for an undo), the final label map of
    every frame they touch, and how far `VideoAnnotation.commit` has got."""

    step: Step
    mode: Mode
    reason: ChangeReason
    frames: dict[int, PackedFrame]
    position: int = 0
    applied: set[int] = field(default_factory=set)  # frames already swapped in

    @property
    def patches(self) -> Sequence[Patch]:
        return self.step.patches[::-1] if self.mode == "undo" else self.step.patches

    @property
    def done(self) -> bool:
        return self.position >= len(self.step.patches)

    @property
    def total(self) -> int:
        return len(self.step.patches)


def pack(labels: np.ndarray) -> PackedFrame:
    return PackedFrame(compress(labels) if labels.any() else None, object_ids_in(labels))


def label_patch(index: int, old: np.ndarray, new: np.ndarray) -> LabelPatch | None:
    """The box of frame `index` where `old` and `new` differ, both compressed; None if equal."""
    changed = old != new
    rows = np.flatnonzero(changed.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(changed.any(axis=0))
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    return LabelPatch(index, (y0, y1, x0, x1), compress(old[y0:y1, x0:x1]),
                      compress(new[y0:y1, x0:x1]))


def relabel(read: ReadFrame, indices: Sequence[int], table: np.ndarray,
            progress: Progress | None = None) -> tuple[list[LabelPatch], dict[int, PackedFrame]]:
    """Each frame of `indices` with its ids mapped through `table` (256 uint8): the patches
    and the new frames."""
    patches: list[LabelPatch] = []
    frames: dict[int, PackedFrame] = {}
    for done, index in enumerate(indices, 1):
        old = read(index)
        new = cv2.LUT(old, table)
        patch = label_patch(index, old, new)
        if patch is not None:
            patches.append(patch)
            frames[index] = pack(new)
        if progress is not None:
            progress(done, len(indices))
    return patches, frames


def replay(read: ReadFrame, patches: Iterable[Patch], undo: bool,
           progress: Progress | None = None) -> dict[int, PackedFrame]:
    """The frames the label patches among `patches` (in the order given) leave behind."""
    by_frame: dict[int, list[LabelPatch]] = {}
    for patch in patches:
        if isinstance(patch, LabelPatch):
            by_frame.setdefault(patch.index, []).append(patch)
    frames: dict[int, PackedFrame] = {}
    for done, (index, changes) in enumerate(by_frame.items(), 1):
        labels = read(index).copy()
        for change in changes:
            y0, y1, x0, x1 = change.box
            labels[y0:y1, x0:x1] = decompress(change.before if undo else change.after,
                                              (y1 - y0, x1 - x0))
        frames[index] = pack(labels)
        if progress is not None:
            progress(done, len(by_frame))
    return frames
