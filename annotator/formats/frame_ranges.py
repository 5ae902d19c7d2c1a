"""Per-object frame ranges as the LVOS meta JSON records them and the LVOS toolkit reads them.

The toolkit takes ``start`` and ``end`` as numbers, walks the ids ``range(start, end, 5)`` and
sizes each object's score array as ``frame_nums - 2`` (the first walked id is skipped, ``end``
is never walked). So ``frame_nums`` is written as the number of ids it walks plus one for
``end``: with LVOS ids (step 5) that is the number of stored frames from ``start`` to ``end``.
Frame names that are not LVOS ids cannot be opened by the toolkit; for them ``frame_nums`` is
the number of stored frames from ``start`` to ``end``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from annotator.formats.frame_ids import lvos_id

TOOLKIT_STRIDE = 5  # the LVOS toolkit walks every 5th id


def toolkit_walk(start: int, end: int) -> range:
    """The ids the LVOS toolkit visits for a range (the first is not scored)."""
    return range(start, end, TOOLKIT_STRIDE)


def frame_nums(frame_names: Sequence[str], first: int, last: int) -> int:
    """``frame_nums`` of an object on frames `first`..`last` (positions in `frame_names`)."""
    start, end = lvos_id(frame_names[first]), lvos_id(frame_names[last])
    if start is not None and end is not None:
        return len(toolkit_walk(start, end)) + 1
    return last - first + 1


class RangeTracker:
    """Collects, frame by frame, where each object appears, and which frames are annotated."""

    def __init__(self, frame_names: Sequence[str]) -> None:
        self.frame_names = list(frame_names)
        self._positions = {name: i for i, name in enumerate(self.frame_names)}
        self.first: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self.present: dict[int, list[int]] = {}  # object id -> positions of frames with it
        self.annotated: list[int] = []

    def add(self, name: str, object_ids: Iterable[int]) -> None:
        """Record annotated frame `name` (frames must come in video order) and its objects."""
        index = self._positions[name]
        if self.annotated and index <= self.annotated[-1]:
            raise ValueError(f"frame {name!r} comes after a later frame was recorded")
        self.annotated.append(index)
        for object_id in object_ids:
            self.first.setdefault(int(object_id), index)
            self.last[int(object_id)] = index
            self.present.setdefault(int(object_id), []).append(index)

    def frame_range(self, object_id: int) -> dict[str, Any]:
        """{start, end, frame_nums}: the first and last frame with the object (frame names,
        both included) and ``frame_nums`` as the module docstring defines it."""
        start, end = self.first[object_id], self.last[object_id]
        return {
            "start": self.frame_names[start],
            "end": self.frame_names[end],
            "frame_nums": frame_nums(self.frame_names, start, end),
        }

    @property
    def object_ids(self) -> list[int]:
        return sorted(self.first)
