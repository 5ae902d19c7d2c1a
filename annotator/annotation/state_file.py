"""The tool's own state file of a video (``<root>/.annotator/<video>.json``: objects, frame
states, QA marks), the copy kept of the one before it, and the way forward when it is damaged.

Every save keeps the state file it replaces as ``<video>.json.kept`` before writing the new
one, so a state file damaged later (a disk error, an editor, a sync tool) can give way to the
one saved before it. A damaged state file is never overwritten unasked: opening the video
stops with `DamagedState`, which says whether the kept copy loads, and the person chooses
(`StateChoice`): ``"without"`` opens the video without the state (the masks on disk become
keyframes), ``"kept"`` restores the kept copy; either way the damaged file is kept aside as
``<video>.json.damaged-<date>-<time>``. ``"saved"`` (the default) reads the state file.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from annotator.annotation.journal import STATE_DIR
from annotator.annotation.serialization import decode_state
from annotator.errors import AnnotatorError
from annotator.formats.atomic import atomic_open, keep_aside, keep_copy, safe_join
from annotator.formats.json_files import read_json, write_json

StateChoice = Literal["saved", "without", "kept"]
STATE_VERSION = 1


class DamagedState(AnnotatorError):
    """A state file that does not load; `kept` is the copy from the save before, when it
    loads (None otherwise)."""

    def __init__(self, message: str, path: Path, kept: Path | None) -> None:
        super().__init__(message, path)
        self.state_file = path
        self.kept = kept


def state_path(root: str | Path, video: str) -> Path:
    return safe_join(root, STATE_DIR, f"{video}.json")


def kept_path(root: str | Path, video: str) -> Path:
    return safe_join(root, STATE_DIR, f"{video}.json.kept")


def _problem(path: Path, frame_names: Sequence[str]) -> tuple[str, dict[str, Any] | None]:
    """(why the state file at `path` does not load, "" when it does; its data)."""
    try:
        data = read_json(path)
    except AnnotatorError as exc:
        return exc.message, None
    if not isinstance(data, dict) or data.get("frames") != len(frame_names):
        frames = data.get("frames") if isinstance(data, dict) else "?"
        return f"saved state is for {frames} frames but the video has {len(frame_names)}", None
    try:
        decode_state(data, frame_names)
    except (KeyError, TypeError, ValueError) as exc:
        return f"saved state is damaged ({exc})", None
    return "", data


def read_state(root: Path, video: str, frame_names: Sequence[str]) -> dict[str, Any] | None:
    """The checked data of the video's state file (None when there is none); DamagedState
    when it does not load."""
    path = state_path(root, video)
    if not path.is_file():
        return None
    problem, data = _problem(path, frame_names)
    if problem:
        kept = kept_path(root, video)
        usable = kept if kept.is_file() and not _problem(kept, frame_names)[0] else None
        raise DamagedState(problem, path, usable)
    return data


def apply_choice(root: Path, video: str, choice: StateChoice) -> None:
    """Before the video is read: set the damaged state file aside (``"without"``, ``"kept"``)
    and put the kept copy in its place (``"kept"``)."""
    if choice == "saved":
        return
    path = state_path(root, video)
    if path.is_file():
        keep_aside(path, "damaged", move=True)
    if choice == "kept":
        kept = kept_path(root, video)
        if not kept.is_file():
            raise AnnotatorError("there is no kept copy of the state file to restore", kept)
        with atomic_open(path, "wb") as out, open(kept, "rb") as copy:
            shutil.copyfileobj(copy, out)


def write_state(root: Path, video: str, document: dict[str, Any]) -> None:
    """Write the state file atomically, keeping the one it replaces as the kept copy."""
    path = state_path(root, video)
    keep_copy(path, kept_path(root, video))
    write_json(path, {"version": STATE_VERSION, **document}, indent=1)
