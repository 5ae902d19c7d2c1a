"""Per-object frame ranges as the LVOS meta JSON records them."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence


class RangeTracker:
    """Collects, frame by frame, where each object appears, and which frames are annotated."""

    def __init__(self, frame_names: Sequence[str]) -> None:
        self.frame_names = list(frame_names)
        self._positions = {name: i for i, name in enumerate(self.frame_names)}
        self.first: dict[int, int] = {}
        self.last: dict[int, int] = {}
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

    def frame_range(self, object_id: int) -> dict[str, object]:
        """{start, end, frame_nums}: first and last frame with the object (frame names, both
        included) and how many annotated frames lie between them, ends included."""
        start, end = self.first[object_id], self.last[object_id]
        count = bisect.bisect_right(self.annotated, end) - bisect.bisect_left(self.annotated, start)
        return {
            "start": self.frame_names[start],
            "end": self.frame_names[end],
            "frame_nums": count,
        }

    @property
    def object_ids(self) -> list[int]:
        return sorted(self.first)
