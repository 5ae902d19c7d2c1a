"""The tool's own state of a video as plain JSON-ready data: objects, per-object frame states
(run-length coded), QA marks and the propagator's confidence, and back."""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from annotator.annotation.marks import QAMark
from annotator.annotation.objects import STATES_BY_CODE, ObjectInfo

CONFIDENCE_STEPS = 250  # confidence is kept in the file as round(c * 250), one byte a frame
NO_CONFIDENCE = 255  # the byte of a frame without a confidence


@dataclass(frozen=True)
class SavedState:
    """Objects, their state codes per frame, marks by frame index, and per object the
    propagator's confidence on each frame (float, NaN where there is none)."""

    objects: dict[int, ObjectInfo]
    states: dict[int, np.ndarray]
    marks: dict[int, QAMark]
    confidence: dict[int, np.ndarray]


def encode_state(objects: Iterable[ObjectInfo], states: Mapping[int, np.ndarray],
                 marks: Mapping[int, QAMark], frame_names: Sequence[str],
                 confidence: Mapping[int, np.ndarray] | None = None) -> dict[str, Any]:
    """Objects (in id order), state runs, marks (keyed by frame name) and confidence (one
    zlib-compressed, base64 byte string per object that has any)."""
    return {
        "objects": [
            {"id": o.id, "category": o.category, "caption": o.caption, "colour": list(o.colour)}
            for o in sorted(objects, key=lambda o: o.id)
        ],
        "states": {str(object_id): _runs(codes) for object_id, codes in sorted(states.items())},
        "marks": {frame_names[i]: mark.to_json() for i, mark in sorted(marks.items())},
        "confidence": {str(object_id): _confidence_text(values)
                       for object_id, values in sorted((confidence or {}).items())
                       if not np.isnan(values).all()},
    }


def decode_state(data: Mapping[str, Any], frame_names: Sequence[str]) -> SavedState:
    """The state in `data` (as `encode_state` writes it) for a video of `frame_names`.

    Raises ValueError (KeyError, TypeError) on damaged data, saying what is wrong; marks of
    frames the video does not have are dropped, and so is the confidence of objects it does not
    name.
    """
    objects: dict[int, ObjectInfo] = {}
    states: dict[int, np.ndarray] = {}
    for entry in _typed(data.get("objects", []), list, "objects"):
        entry = _typed(entry, dict, "an object")
        colour = _typed(entry.get("colour", [0, 0, 0]), list, "an object's colour")
        if len(colour) != 3 or not all(_is_int(c) and 0 <= c <= 255 for c in colour):
            raise ValueError(f"an object's colour must be three numbers 0..255, not {colour}")
        if not _is_int(entry.get("id")):
            raise ValueError(f"an object's id must be a whole number, not {entry.get('id')!r}")
        info = ObjectInfo(entry["id"], _typed(entry.get("category", ""), str, "a category"),
                          _typed(entry.get("caption", ""), str, "a caption"),
                          (colour[0], colour[1], colour[2]))
        objects[info.id] = info
        states[info.id] = np.zeros(len(frame_names), np.uint8)
    for key, runs in _typed(data.get("states", {}), dict, "states").items():
        object_id = int(key)
        if object_id in states:
            states[object_id] = _from_runs(_typed(runs, list, "state runs"), len(frame_names))
    positions = {name: i for i, name in enumerate(frame_names)}
    marks = {positions[name]: QAMark.from_json(mark)
             for name, mark in _typed(data.get("marks", {}), dict, "marks").items()
             if name in positions}
    confidence = {int(key): _confidence_values(text, len(frame_names))
                  for key, text in _typed(data.get("confidence", {}), dict,
                                          "confidence").items() if int(key) in objects}
    return SavedState(objects, states, marks, confidence)


def _confidence_text(values: np.ndarray) -> str:
    codes = np.where(np.isnan(values), NO_CONFIDENCE,
                     np.round(np.clip(np.nan_to_num(values), 0, 1) * CONFIDENCE_STEPS))
    return base64.b64encode(zlib.compress(codes.astype(np.uint8).tobytes())).decode("ascii")


def _confidence_values(text: Any, length: int) -> np.ndarray:
    try:
        raw = zlib.decompress(base64.b64decode(_typed(text, str, "confidence"), validate=True))
    except (binascii.Error, zlib.error) as exc:
        raise ValueError(f"unreadable confidence ({exc})") from exc
    codes = np.frombuffer(raw, np.uint8)
    if codes.size != length:
        raise ValueError(f"confidence covers {codes.size} frames, the video has {length}")
    if ((codes > CONFIDENCE_STEPS) & (codes != NO_CONFIDENCE)).any():
        raise ValueError("confidence byte out of range")
    values = codes.astype(np.float64) / CONFIDENCE_STEPS
    values[codes == NO_CONFIDENCE] = np.nan
    return values


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _typed(value: Any, kind: type, what: str) -> Any:
    if not isinstance(value, kind):
        raise ValueError(f"{what} must be a JSON {'object' if kind is dict else kind.__name__}, "
                         f"not {type(value).__name__}")
    return value


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
    for run in runs:
        if (
            not isinstance(run, list)
            or len(run) != 2
            or not all(_is_int(v) for v in run)
            or not 0 <= run[0] < len(STATES_BY_CODE)
            or not 0 <= run[1] <= length - position
        ):
            raise ValueError(f"bad state run {run!r}")
        code, count = run
        codes[position : position + count] = code
        position += count
    if position != length:
        raise ValueError(f"state runs cover {position} frames, the video has {length}")
    return codes
