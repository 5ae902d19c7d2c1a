"""The journal's record format: framing, checksums, and a reader that survives damage.

A journal is a sequence of records, each::

    magic    4 bytes   89 56 41 4A  ("\\x89VAJ")
    length   uint32 LE the size of the body
    crc      uint32 LE CRC-32 of the length field and the body
    body     uint32 LE header size, a UTF-8 JSON header, then the payload

`scan` returns the records whose checksum holds; past a damaged record or a tail cut short it
looks for the next magic, so damage costs only the records it touches, and it describes every
stretch of bytes it could not use.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAGIC = b"\x89VAJ"
_U32 = struct.Struct("<I")
_PREFIX = len(MAGIC) + 2 * _U32.size  # magic, length, crc


@dataclass(frozen=True)
class Record:
    """One good record: where it starts, its JSON header and its payload."""

    offset: int
    size: int  # bytes, framing included
    header: dict[str, Any]
    payload: bytes

    @property
    def kind(self) -> str:
        return str(self.header.get("t"))


@dataclass(frozen=True)
class DroppedRecord:
    """Bytes or a record that recovery could not use, and why (worded for a person)."""

    offset: int  # where it starts in the journal
    size: int  # bytes
    reason: str
    kind: str | None = None  # "start", "frame" or "state" when known
    frame: int | None = None  # the frame index when known (read from a damaged header: a guess)

    def describe(self) -> str:
        what = f"frame {self.frame}" if self.frame is not None else (self.kind or "record")
        return f"{what} at byte {self.offset}: {self.reason}"


def encode_record(header: dict[str, Any], payload: bytes = b"") -> bytes:
    """One framed record (see the module docstring)."""
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    body = _U32.pack(len(head)) + head + payload
    length = _U32.pack(len(body))
    return MAGIC + length + _U32.pack(zlib.crc32(body, zlib.crc32(length))) + body


def scan(data: bytes) -> tuple[list[Record], list[DroppedRecord]]:
    """The good records of journal bytes, and the damaged stretches between them."""
    records: list[Record] = []
    dropped: list[DroppedRecord] = []
    position = 0
    while position < len(data):
        record = _record_at(data, position)
        if record is not None:
            records.append(record)
            position += record.size
            continue
        following = data.find(MAGIC, position + 1)
        while following != -1 and _record_at(data, following) is None:
            following = data.find(MAGIC, following + 1)
        end = len(data) if following == -1 else following
        dropped.append(_damage(data, position, end, at_end=following == -1))
        position = end
    return records, dropped


def read_journal(path: str | Path) -> tuple[list[Record], list[DroppedRecord]]:
    """`scan` of a journal file; nothing when there is none."""
    try:
        data = Path(path).read_bytes()
    except (FileNotFoundError, NotADirectoryError):  # no journal can be there
        return [], []
    return scan(data)


def _record_at(data: bytes, position: int) -> Record | None:
    """The record starting at `position` when it is whole and its checksum holds."""
    if data[position : position + len(MAGIC)] != MAGIC or position + _PREFIX > len(data):
        return None
    length_bytes = data[position + 4 : position + 8]
    (length,) = _U32.unpack(length_bytes)
    (crc,) = _U32.unpack_from(data, position + 8)
    start = position + _PREFIX
    if start + length > len(data) or length < _U32.size:
        return None
    body = data[start : start + length]
    if zlib.crc32(body, zlib.crc32(length_bytes)) != crc:
        return None
    header = _header(body)
    if header is None:
        return None
    (head_size,) = _U32.unpack_from(body)
    return Record(position, _PREFIX + length, header, body[_U32.size + head_size :])


def _header(body: bytes) -> dict[str, Any] | None:
    """The JSON header at the start of a record body, if it is one."""
    if len(body) < _U32.size:
        return None
    (size,) = _U32.unpack_from(body)
    try:
        header = json.loads(body[_U32.size : _U32.size + size].decode("utf-8"))
    except ValueError:  # JSON and UTF-8 errors
        return None
    return header if isinstance(header, dict) else None


def _damage(data: bytes, start: int, end: int, at_end: bool) -> DroppedRecord:
    """Describe the unusable bytes data[start:end], guessing their record from its header."""
    framed = data[start : start + len(MAGIC)] == MAGIC[: len(data) - start]
    whole_prefix = start + _PREFIX <= len(data)
    claimed_end = start + _PREFIX + _U32.unpack_from(data, start + 4)[0] if whole_prefix else None
    if framed and at_end and (claimed_end is None or claimed_end > len(data)):
        reason = "cut short (the app stopped while writing it)"
    elif framed:
        reason = "checksum mismatch (the bytes were changed)"
    else:
        reason = "unreadable bytes (not a journal record)"
    header = _header(data[start + _PREFIX : end]) if framed else None
    kind = header.get("t") if header else None
    frame = header.get("i") if header and kind == "frame" else None
    return DroppedRecord(
        start,
        end - start,
        reason,
        kind if isinstance(kind, str) else None,
        frame if isinstance(frame, int) and not isinstance(frame, bool) else None,
    )
