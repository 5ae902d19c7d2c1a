"""The recovery journal: a write-ahead log of every change since the last save.

``<root>/.annotator/<video>.journal`` is a sequence of framed, checksummed records (format
in `journal_records`). Headers: first ``{"t": "start", "v": 2, "shape": [frames, height,
width]}``; then ``{"t": "frame", "i": index}`` with the zlib bytes of that frame's whole label
map (empty for an all-background frame) and ``{"t": "state"}`` with the objects/states/marks
JSON of `VideoAnnotation.state_dict`. Replaying the good records in order rebuilds the unsaved
work.

A damaged record or a tail cut short costs only the records it touches: `recover` returns a
`Recovery` that says what came back and what was dropped, and keeps a damaged journal aside.
The writer appends only to a file it started itself: after a recovery, a failed write, or on
finding the journal of an earlier session that was neither recovered nor discarded, it starts a
clean journal that holds everything not yet saved (written atomically). Saving empties it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from annotator.annotation.events import ChangeEvent
from annotator.annotation.journal_records import (
    DroppedRecord,
    Record,
    encode_record,
    read_journal,
)
from annotator.annotation.serialization import SavedState, decode_state
from annotator.annotation.video_annotation import VideoAnnotation
from annotator.errors import AnnotatorError
from annotator.formats.atomic import atomic_open, keep_aside, safe_join

VERSION = 2
STATE_DIR = ".annotator"
# Propagation results can be recomputed: their records are flushed (a killed process keeps
# them) but synced and followed by the state JSON at most this often, not after every frame.
PROPAGATED_STATE_INTERVAL_S = 1.0


def journal_path(root: str | Path, video: str) -> Path:
    return safe_join(root, STATE_DIR, f"{video}.journal")


@dataclass(frozen=True)
class Recovery:
    """What `recover` brought back from a journal and what it had to drop."""

    path: Path  # the journal read
    frames: tuple[int, ...]  # frame indices restored (their latest good record each)
    state: bool  # objects, frame states and marks restored from a state record
    dropped: tuple[DroppedRecord, ...]  # in file order; empty when every record was good
    recreated: tuple[int, ...]  # object ids found in restored frames but in no good state record
    kept: Path | None  # the damaged journal kept under this name; None when nothing was dropped

    @property
    def complete(self) -> bool:
        """True when every record was good: nothing was lost."""
        return not self.dropped

    def summary(self) -> str:
        """One or two sentences for a person."""
        parts = [f"restored {len(self.frames)} frame{'s' if len(self.frames) != 1 else ''}"
                 + (" and the objects' details" if self.state else "")]
        if self.recreated:
            ids = ", ".join(map(str, self.recreated))
            parts.append(f"objects {ids} were re-created without their names")
        if self.dropped:
            count = len(self.dropped)
            parts.append(f"{count} damaged record{'s were' if count != 1 else ' was'} dropped ("
                         + "; ".join(d.describe() for d in self.dropped[:3])
                         + ("; …" if count > 3 else "") + ")")
        if self.kept is not None:
            parts.append(f"the damaged journal is kept as {self.kept}")
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."

    def __str__(self) -> str:
        return self.summary()


def has_recovery(root: str | Path, video: str) -> bool:
    """True when the journal of `video` holds anything unsaved, or anything damaged (which
    `recover` reports): the app stopped before saving, or the file was harmed."""
    records, dropped = read_journal(journal_path(root, video))
    return bool(dropped) or any(r.kind in ("frame", "state") for r in records)


def recover(annotation: VideoAnnotation, root: str | Path, video: str,
            notify: bool = True) -> Recovery:
    """Replay every good record of the journal of `video` onto `annotation` (as loaded).

    Each frame gets its latest good record; objects, states and marks come from the latest
    state record that loads. The restored frames are dirty so the next save writes them, and
    the whole recovery is one undo step (undoing it gives the video as saved). Listeners hear
    of it (a "load" event) unless `notify` is False: then the caller calls
    `annotation.notify_loaded()` itself, as a GUI does on its own thread after recovering in
    a worker. When
    anything was dropped a copy of the journal is kept (`Recovery.kept`). A journal started for
    another frame count or size is refused whole with AnnotatorError (nothing is applied) and
    renamed aside. After a recovery callers start a clean journal (`Journal.restart`), as
    `Project.recover` does.
    """
    path = journal_path(root, video)
    records, dropped = read_journal(path)
    expected = [len(annotation), annotation.height, annotation.width]
    for record in records:
        if record.kind == "start" and (
            record.header.get("shape") != expected or record.header.get("v") != VERSION
        ):
            try:
                where = f"it is kept as {keep_aside(path, 'refused', move=True).name}"
            except OSError as exc:
                where = f"it stays where it is ({exc})"
            raise AnnotatorError(
                f"journal is for {record.header.get('shape')} (frames, height, width) in format "
                f"{record.header.get('v')}, the video is {expected} in format {VERSION}; {where}",
                path,
            )
    frames: dict[int, bytes | None] = {}
    states: list[Record] = []
    for record in records:
        if record.kind == "frame":
            problem = _frame_problem(record, annotation)
            if problem:
                dropped.append(_dropped(record, problem))
                continue
            frames[record.header["i"]] = record.payload or None
        elif record.kind == "state":
            states.append(record)
        elif record.kind != "start":
            dropped.append(_dropped(record, f"unknown record type {record.kind!r}"))
    saved: SavedState | None = None
    for record in reversed(states):
        saved, problem = _read_state(annotation, record.payload)
        if saved is not None:
            break
        dropped.append(_dropped(record, problem))
    recreated = annotation.restore(frames, saved)
    if notify:
        annotation.notify_loaded()
    dropped.sort(key=lambda d: d.offset)
    kept = None
    if dropped:
        with contextlib.suppress(OSError):  # a full disk: the good records count more
            kept = keep_aside(path, "damaged")
    return Recovery(path, tuple(sorted(frames)), saved is not None, tuple(dropped), recreated,
                    kept)


def _dropped(record: Record, reason: str) -> DroppedRecord:
    frame = record.header.get("i") if record.kind == "frame" else None
    valid = isinstance(frame, int) and not isinstance(frame, bool)
    return DroppedRecord(record.offset, record.size, reason, record.kind, frame if valid else None)


def _frame_problem(record: Record, annotation: VideoAnnotation) -> str:
    """Why a (checksummed) frame record cannot be applied; empty when it can."""
    index = record.header.get("i")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(annotation):
        return f"frame index {index!r} is not one of the video's {len(annotation)} frames"
    if not record.payload:
        return ""
    expected = annotation.height * annotation.width
    inflater = zlib.decompressobj()
    try:
        size = len(inflater.decompress(record.payload, expected + 1))
    except zlib.error as exc:
        return f"the label map does not decompress ({exc})"
    if size != expected or not inflater.eof:
        return f"the label map does not hold {expected} pixels"
    return ""


def _read_state(annotation: VideoAnnotation, payload: bytes) -> tuple[SavedState | None, str]:
    """The state a record holds, or None and why it cannot be used."""
    try:
        data = json.loads(payload.decode("utf-8"))
        if not isinstance(data, dict):
            return None, "the state is not a JSON object"
        return decode_state(data, annotation.frame_names), ""
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return None, f"the state does not load ({exc})"


class Journal:
    """Appends each change of one annotation to its journal; `reset()` after a save.

    A write that fails (disk full, read-only) does not stop the edit: the error is kept in
    `error`, and the next change starts a clean journal. The file found at `path` when the
    journal starts belongs to an earlier session: it is appended to never; the first change
    renames it aside (`set_aside`) unless `restart` (after `recover`) or `discard` ran first.
    """

    def __init__(self, root: str | Path, video: str, annotation: VideoAnnotation) -> None:
        self.path = journal_path(root, video)
        self.annotation = annotation
        self.error: OSError | None = None  # the last write failure; None once writing works
        self.set_aside: Path | None = None  # where an earlier session's journal was moved
        self._handle: BinaryIO | None = None
        self._owned = False  # the file at `path` was written by this journal
        self._frames: set[int] = set()  # frames journalled since the last save
        self._state_written = 0.0
        self._state_revision: int | None = None  # meta_revision of the last state record
        self._unsubscribe = annotation.subscribe(self._on_change)

    def _on_change(self, event: ChangeEvent) -> None:
        if event.reason == "load":
            return
        try:
            if self._handle is None:
                self._start(event.frames, sync=event.reason != "propagate")
            else:
                self._append(event)
            self.error = None
        except OSError as exc:
            self._failed(exc)

    def _append(self, event: ChangeEvent) -> None:
        handle = self._handle
        assert handle is not None
        for index in sorted(event.frames):
            self._write_frame(handle, index)
        now = time.monotonic()
        if event.reason == "propagate" and now - self._state_written < PROPAGATED_STATE_INTERVAL_S:
            handle.flush()
            return
        if self.annotation.meta_revision != self._state_revision:  # only when it changed
            self._write_state(handle)
        handle.flush()
        os.fsync(handle.fileno())
        self._state_written = now

    def restart(self) -> None:
        """Start a clean journal now that holds everything unsaved (after a `recover`): the
        file found at `path` is replaced (removed when nothing is unsaved). A failure is kept
        in `error` and the next change tries again.
        """
        self._close_handle()
        self._owned = True  # the caller has dealt with the earlier file
        try:
            if self._frames or self.annotation.is_dirty:
                self._start(())
            else:
                self.reset()
            self.error = None
        except OSError as exc:
            self._failed(exc)

    def _start(self, changed: Iterable[int], sync: bool = True) -> None:
        """Start a new journal that holds everything unsaved (start record, every unsaved
        frame, the state) and keep it open for appending. A file already at `path` (this
        journal's own, after a failed write or a recovery) is replaced atomically; one of an
        earlier session with work in it is renamed aside first."""
        if not self._owned and self._holds_work():
            self.set_aside = keep_aside(self.path, "unrecovered", move=True)
        self._frames |= set(changed) | self.annotation.dirty_frames
        if self.path.exists():
            with atomic_open(self.path, "wb") as out:
                self._write_everything(out)
            self._owned = True
            self._handle = open(self.path, "ab")  # noqa: SIM115 - held open between changes
        else:  # nothing to replace: a plain new file, as cheap as an append
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "xb")  # noqa: SIM115 - held open between changes
            self._owned = True
            self._write_everything(self._handle)
            self._handle.flush()
            if sync:
                os.fsync(self._handle.fileno())
        self._state_written = time.monotonic()

    def _write_everything(self, handle: IO[bytes]) -> None:
        shape = [len(self.annotation), self.annotation.height, self.annotation.width]
        handle.write(encode_record({"t": "start", "v": VERSION, "shape": shape}))
        for index in sorted(self._frames):
            self._write_frame(handle, index)
        self._write_state(handle)

    def _holds_work(self) -> bool:
        records, dropped = read_journal(self.path)
        return bool(dropped) or any(r.kind in ("frame", "state") for r in records)

    def _write_frame(self, handle: IO[bytes], index: int) -> None:
        data = self.annotation.compressed_label_map(index) or b""
        handle.write(encode_record({"t": "frame", "i": index}, data))
        self._frames.add(index)

    def _write_state(self, handle: IO[bytes]) -> None:
        revision = self.annotation.meta_revision
        state = json.dumps(self.annotation.state_dict(), separators=(",", ":"))
        handle.write(encode_record({"t": "state"}, state.encode("utf-8")))
        self._state_revision = revision

    def _failed(self, error: OSError) -> None:
        """A write failed: the file may end in a torn record, so never append to it again."""
        self.error = error
        with contextlib.suppress(OSError):
            self._close_handle()
        self._handle = None

    def reset(self) -> None:
        """Everything is saved: empty the journal (one of an earlier session stays)."""
        self._close_handle()
        self._state_revision = None
        self._frames.clear()
        if self._owned:
            self.path.unlink(missing_ok=True)
            self._owned = False

    def discard(self) -> None:
        """Delete the journal of an earlier session (the person chose not to recover it)."""
        earlier = self.set_aside if self._owned else self.path  # set aside at a first change
        if earlier is not None:
            earlier.unlink(missing_ok=True)
        self.set_aside = None

    def close(self) -> None:
        """Stop journalling (the file stays for recovery if work is unsaved)."""
        self._unsubscribe()
        self._close_handle()

    def _close_handle(self) -> None:
        if self._handle is not None:
            handle, self._handle = self._handle, None
            handle.close()
