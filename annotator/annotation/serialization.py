"""The tool's own state of a video as plain JSON-ready data: objects, per-object frame states
(run-length coded) and QA marks, and back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from annotator.annotation.objects import STATES_BY_CODE, ObjectInfo


@dataclass(frozen=True)
class SavedState:
    """Objects, their state codes per frame, and marks by frame index."""

    objects: dict[int, ObjectInfo]
    states: dict[int, np.ndarray]
    marks: dict[int, str]


def encode_state(objects: Iterable[ObjectInfo], states: Mapping[int, np.ndarray],
                 marks: Mapping[int, str], frame_names: Sequence[str]) -> dict[str, Any]:
    """Objects (in id order), state runs and marks (keyed by frame name)."""
    return {
        "objects": [
            {"id": o.id, "category": o.category, "caption": o.caption, "colour": list(o.colour)}
            for o in sorted(objects, key=lambda o: o.id)
        ],
        "states": {str(object_id): _runs(codes) for object_id, codes in sorted(states.items())},
        "marks": {frame_names[i]: note for i, note in sorted(marks.items())},
    }


def decode_state(data: Mapping[str, Any], frame_names: Sequence[str]) -> SavedState:
    """The state in `data` (as `encode_state` writes it) for a video of `frame_names`.

    Raises KeyError, TypeError or ValueError on damaged data; marks of frames the video does
    not have are dropped.
    """
    objects: dict[int, ObjectInfo] = {}
    states: dict[int, np.ndarray] = {}
    for entry in data.get("objects", []):
        red, green, blue = (int(c) for c in entry.get("colour", (0, 0, 0)))
        info = ObjectInfo(int(entry["id"]), str(entry.get("category", "")),
                          str(entry.get("caption", "")), (red, green, blue))
        objects[info.id] = info
        states[info.id] = np.zeros(len(frame_names), np.uint8)
    for key, runs in data.get("states", {}).items():
        object_id = int(key)
        if object_id in states:
            states[object_id] = _from_runs(runs, len(frame_names))
    positions = {name: i for i, name in enumerate(frame_names)}
    marks = {positions[name]: str(note) for name, note in data.get("marks", {}).items()
             if name in positions}
    return SavedState(objects, states, marks)


def _runs(codes: np.ndarray) -> list[list[int]]:
    """Run-length code: [[code, count], ...]."""
    if codes.size == 0:
        return []
    starts = np.flatnonzero(np.diff(codes.astype(np.int16), prepend=-1))
    counts = np.diff(np.append(starts, codes.size))
    return [[int(codes[s]), int(c)] for s, c in zip(starts, counts, strict=True)]


def _from_runs(runs: list[list[int]], length: int) -> np.ndarray:
    codes = np.zeros(length, np.uint8)
    position = 0
    for code, count in runs:
        if not 0 <= int(code) < len(STATES_BY_CODE) or int(count) < 0:
            raise ValueError(f"bad state run {[code, count]}")
        codes[position : position + int(count)] = int(code)
        position += int(count)
    if position != length:
        raise ValueError(f"state runs cover {position} frames, the video has {length}")
    return codes
