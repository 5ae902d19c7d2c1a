"""A recovery journal: every change since the last save, appended and synced as it happens.

``<root>/.annotator/<video>.journal`` holds records of a 4-byte little-endian header length, a
JSON header, then a payload: a ``start`` record (frame count and size), ``frame`` records
(zlib bytes of one whole label map, empty payload for an all-background frame) and ``state``
records (the objects/states/marks JSON of `VideoAnnotation.state_dict`). Replaying them in
order rebuilds the unsaved work; a record cut short by a crash is ignored. Saving empties it.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from annotator.annotation.events import ChangeEvent
from annotator.annotation.video_annotation import VideoAnnotation
from annotator.errors import AnnotatorError
from annotator.formats.atomic import safe_join

_LENGTH = struct.Struct("<I")
STATE_DIR = ".annotator"
# Propagation results can be recomputed: their records are flushed (a killed process keeps
# them) but synced and followed by the state JSON at most this often, not after every frame.
PROPAGATED_STATE_INTERVAL_S = 1.0


def journal_path(root: str | Path, video: str) -> Path:
    return safe_join(root, STATE_DIR, f"{video}.journal")


def has_recovery(root: str | Path, video: str) -> bool:
    """True when unsaved work of `video` was left behind (the app stopped before saving)."""
    path = journal_path(root, video)
    if not path.is_file():
        return False
    return any(header.get("t") in ("frame", "state") for header, _ in _records(path))


def discard_recovery(root: str | Path, video: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        journal_path(root, video).unlink()


def recover(annotation: VideoAnnotation, root: str | Path, video: str) -> int:
    """Replay the journal of `video` onto `annotation` (as loaded from disk).

    Returns how many frames it restored; the restored frames are dirty so the next save
    writes them. Stops with AnnotatorError when the journal belongs to another frame list.
    """
    path = journal_path(root, video)
    frames: set[int] = set()
    state: dict[str, Any] | None = None
    for header, payload in _records(path):
        kind = header.get("t")
        if kind == "start":
            expected = [len(annotation), annotation.height, annotation.width]
            if header.get("shape") != expected:
                raise AnnotatorError(
                    f"journal is for {header.get('shape')} (frames, height, width), the video is "
                    f"{expected}",
                    path,
                )
        elif kind == "frame":
            try:
                index = int(header["i"])
                annotation.load_compressed(index, payload or None)
            except (KeyError, TypeError, ValueError, IndexError, zlib.error) as exc:
                raise AnnotatorError(f"journal frame record is damaged ({exc})", path) from exc
            frames.add(index)
        elif kind == "state":
            try:
                state = json.loads(payload.decode("utf-8"))
            except ValueError as exc:  # JSON and UTF-8 errors
                raise AnnotatorError(f"journal state is damaged ({exc})", path) from exc
    if state is not None:
        try:
            annotation.load_state_dict(state)
        except (KeyError, TypeError, ValueError) as exc:
            raise AnnotatorError(f"journal state is damaged ({exc})", path) from exc
        annotation.meta_dirty = True
    annotation.history.clear()
    annotation.notify_loaded()
    return len(frames)


def _records(path: Path) -> Iterator[tuple[dict[str, Any], bytes]]:
    data = path.read_bytes()
    position = 0
    while position + _LENGTH.size <= len(data):
        (length,) = _LENGTH.unpack_from(data, position)
        start = position + _LENGTH.size
        if start + length > len(data):
            return
        try:
            header = json.loads(data[start : start + length].decode("utf-8"))
            size = int(header.get("n", 0))
        except (ValueError, UnicodeDecodeError, AttributeError):
            return
        end = start + length + size
        if end > len(data):
            return
        yield header, data[start + length : end]
        position = end


class Journal:
    """Appends each change of one annotation to its journal; `reset()` after a save."""

    def __init__(self, root: str | Path, video: str, annotation: VideoAnnotation) -> None:
        self.path = journal_path(root, video)
        self.annotation = annotation
        self._handle: BinaryIO | None = None
        self._state_written = 0.0
        self._state_revision: int | None = None  # meta_revision of the last state record
        self._unsubscribe = annotation.subscribe(self._on_change)

    def _on_change(self, event: ChangeEvent) -> None:
        if event.reason == "load":
            return
        handle = self._open()
        for index in sorted(event.frames):
            data = self.annotation.compressed_label_map(index) or b""
            self._write(handle, {"t": "frame", "i": index}, data)
        now = time.monotonic()
        if event.reason == "propagate" and now - self._state_written < PROPAGATED_STATE_INTERVAL_S:
            handle.flush()
            return
        revision = self.annotation.meta_revision
        if revision != self._state_revision:  # the state JSON only when it changed
            state = json.dumps(self.annotation.state_dict(), separators=(",", ":"))
            self._write(handle, {"t": "state"}, state.encode("utf-8"))
            self._state_revision = revision
        handle.flush()
        os.fsync(handle.fileno())
        self._state_written = now

    def _open(self) -> BinaryIO:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fresh = not self.path.exists() or self.path.stat().st_size == 0
            self._handle = open(self.path, "ab")  # noqa: SIM115 - held open between changes
            if fresh:
                shape = [len(self.annotation), self.annotation.height, self.annotation.width]
                self._write(self._handle, {"t": "start", "shape": shape}, b"")
        return self._handle

    @staticmethod
    def _write(handle: BinaryIO, header: dict[str, Any], payload: bytes) -> None:
        encoded = json.dumps({**header, "n": len(payload)}).encode("utf-8")
        handle.write(_LENGTH.pack(len(encoded)) + encoded + payload)

    def reset(self) -> None:
        """Everything is saved: empty the journal."""
        self._close_handle()
        self._state_revision = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def close(self) -> None:
        """Stop journalling (the file stays for recovery if work is unsaved)."""
        self._unsubscribe()
        self._close_handle()

    def _close_handle(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
