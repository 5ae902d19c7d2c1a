"""The recovery journal under damage: bit flips, torn tails, failed writes, refused journals."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import pytest

from annotator.annotation import journal as journal_module
from annotator.annotation.journal import journal_path
from annotator.annotation.journal_records import MAGIC, encode_record, read_journal, scan
from annotator.annotation.marks import QAMark, Verdict
from annotator.annotation.project import Project
from annotator.errors import AnnotatorError
from annotator.formats.masks import read_label_map

VIDEO = "soccerball"


def _stroke(slot: int) -> np.ndarray:
    """A 20 x 20 square of its own for each slot (no two overlap)."""
    mask = np.zeros((480, 854), bool)
    y, x = divmod(slot, 20)
    mask[20 + 30 * y : 40 + 30 * y, 20 + 40 * x : 40 + 40 * x] = True
    return mask


def _has_stroke(project: Project, frame: int, slot: int, obj: int) -> bool:
    return bool((project.annotation.label_map(frame)[_stroke(slot)] == obj).all())


def _session_with_strokes(root: Path, frames: list[int]) -> int:
    """Open, paint one stroke on each of `frames` (slot = position), then stop without saving
    (as a crash after the journal was synced). Returns the object id."""
    project = Project.open(root)
    obj = project.annotation.add_object("ball", "the ball").id
    for slot, frame in enumerate(frames):
        project.annotation.paint(frame, obj, _stroke(slot))
    project.close()
    return obj


def _records_of(root: Path) -> list[tuple[int, str, int | None]]:
    records, dropped = read_journal(journal_path(root, VIDEO))
    assert not dropped
    return [(r.offset, r.kind, r.header.get("i")) for r in records]


def test_a_flipped_byte_costs_one_record_and_the_damaged_journal_is_kept(lvos_copy):
    frames = [3, 4, 5, 6, 7]
    obj = _session_with_strokes(lvos_copy, frames)
    path = journal_path(lvos_copy, VIDEO)
    records = _records_of(lvos_copy)
    offset, _kind, _frame = next(r for r in records if r[1] == "frame" and r[2] == 5)
    data = bytearray(path.read_bytes())
    data[offset + 40] ^= 0xFF  # one byte inside frame 5's record
    path.write_bytes(bytes(data))

    project = Project.open(lvos_copy)
    assert project.has_recovery()
    result = project.recover()
    assert result.frames == (3, 4, 6, 7) and result.state and not result.complete
    [dropped] = result.dropped
    assert (dropped.offset, dropped.kind, dropped.frame) == (offset, "frame", 5)
    assert "checksum" in dropped.reason and "frame 5" in result.summary()
    for slot, index in enumerate(frames):
        assert _has_stroke(project, index, slot, obj) == (index != 5)
    assert project.annotation.objects[obj].caption == "the ball"
    assert result.kept is not None and result.kept.read_bytes() == bytes(data)
    # the live journal is a clean new file holding everything recovered
    assert {r[2] for r in _records_of(lvos_copy) if r[1] == "frame"} == {3, 4, 6, 7}
    project.close()


def test_journalling_goes_on_cleanly_after_a_torn_tail(lvos_copy):
    obj = _session_with_strokes(lvos_copy, [1, 2])
    path = journal_path(lvos_copy, VIDEO)
    torn = encode_record({"t": "frame", "i": 9}, b"\x78\x9c" + b"\x00" * 500)
    with open(path, "ab") as handle:
        handle.write(torn[: len(torn) // 2])  # the app died mid-record

    project = Project.open(lvos_copy)
    result = project.recover()
    assert result.frames == (1, 2)
    assert [(d.kind, d.frame, d.reason.split(" (")[0]) for d in result.dropped] == [
        ("frame", 9, "cut short")
    ]
    for slot in range(2, 7):  # five more strokes after the recovery, then a crash
        project.annotation.paint(10 + slot, obj, _stroke(slot))
    project.close()
    assert not scan(path.read_bytes())[1]  # nothing was appended after torn bytes

    project = Project.open(lvos_copy)
    result = project.recover()
    assert result.complete and result.frames == (1, 2, 12, 13, 14, 15, 16)
    assert all(_has_stroke(project, f, s, obj) for f, s in [(1, 0), (2, 1)])
    assert all(_has_stroke(project, 10 + s, s, obj) for s in range(2, 7))
    project.close()


def test_a_journal_without_a_valid_start_is_offered_and_never_deleted_unasked(lvos_copy):
    obj = _session_with_strokes(lvos_copy, [8])
    path = journal_path(lvos_copy, VIDEO)
    data = bytearray(path.read_bytes())
    data[:4] = b"JUNK"  # the start record's magic
    path.write_bytes(bytes(data))

    project = Project.open(lvos_copy)
    assert project.has_recovery()
    project.save()  # nothing decided yet: the journal of the earlier session stays
    assert path.read_bytes() == bytes(data)
    # a first change moves it aside, untouched
    project.annotation.set_mark(0, QAMark(Verdict.ACCEPTED, "seen"))
    assert project.journal.set_aside is not None
    assert project.journal.set_aside.read_bytes() == bytes(data)
    assert not scan(path.read_bytes())[1]
    project.close()
    project.journal.set_aside.replace(path)  # put it back to recover it

    project = Project.open(lvos_copy)
    result = project.recover()
    assert result.frames == (8,) and _has_stroke(project, 8, 0, obj)
    assert [(d.offset, d.reason.split(" (")[0]) for d in result.dropped] == [
        (0, "unreadable bytes")
    ]
    project.close()


def test_a_refused_journal_is_kept_and_journalling_goes_on(lvos_copy):
    _session_with_strokes(lvos_copy, [0])
    images = lvos_copy / "JPEGImages" / VIDEO
    (images / "00048.jpg").write_bytes((images / "00000.jpg").read_bytes())  # one more frame
    project = Project.open(lvos_copy)
    with pytest.raises(AnnotatorError, match=r"journal is for \[48, 480, 854\].*kept as"):
        project.recover()
    kept = list(journal_path(lvos_copy, VIDEO).parent.glob(f"{VIDEO}.journal.refused-*"))
    assert len(kept) == 1 and scan(kept[0].read_bytes())[0][0].header["shape"][0] == 48
    obj = project.annotation.add_object().id
    for slot in range(5):
        project.annotation.paint(40 + slot, obj, _stroke(slot))
    project.close()  # a crash: every stroke is in the new journal

    project = Project.open(lvos_copy)
    result = project.recover()
    assert result.complete and result.frames == (40, 41, 42, 43, 44)
    assert all(_has_stroke(project, 40 + s, s, obj) for s in range(5))
    project.close()


def test_a_failed_write_never_stops_journalling(lvos_copy, monkeypatch):
    project = Project.open(lvos_copy)
    obj = project.annotation.add_object().id
    project.annotation.paint(1, obj, _stroke(0))
    real_fsync = journal_module.os.fsync

    def disk_full(fd: int) -> None:
        with open(journal_path(lvos_copy, VIDEO), "ab") as handle:
            handle.write(b"\x89VAJ\xff\xff")  # what a dying write left behind
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal_module.os, "fsync", disk_full)
    project.annotation.paint(2, obj, _stroke(1))  # the edit itself goes through
    assert isinstance(project.journal.error, OSError) and "No space" in str(project.journal.error)
    monkeypatch.setattr(journal_module.os, "fsync", real_fsync)
    project.annotation.paint(3, obj, _stroke(2))
    assert project.journal.error is None
    assert not scan(journal_path(lvos_copy, VIDEO).read_bytes())[1]  # a clean new journal
    project.close()

    project = Project.open(lvos_copy)
    result = project.recover()
    assert result.complete and result.frames == (1, 2, 3)
    assert all(_has_stroke(project, f, f - 1, obj) for f in (1, 2, 3))
    project.close()


def test_records_that_pass_the_checksum_but_do_not_fit_are_dropped_one_by_one(lvos_copy):
    obj = _session_with_strokes(lvos_copy, [2])
    with open(journal_path(lvos_copy, VIDEO), "ab") as handle:
        handle.write(encode_record({"t": "frame", "i": 99}, b""))
        handle.write(encode_record({"t": "frame", "i": 4}, b"not zlib"))
        handle.write(encode_record({"t": "frame", "i": 5}, np.zeros(10, np.uint8).tobytes()))
        handle.write(encode_record({"t": "state"}, b"[1, 2]"))
        handle.write(encode_record({"t": "mystery"}))
    project = Project.open(lvos_copy)
    result = project.recover()
    reasons = [d.reason for d in result.dropped]
    assert len(reasons) == 5
    assert "not one of the video's 48 frames" in reasons[0]
    assert "does not decompress" in reasons[1] and "does not decompress" in reasons[2]
    assert "not a JSON object" in reasons[3] and "unknown record type" in reasons[4]
    assert result.frames == (2,) and result.state  # the earlier state record was used
    assert _has_stroke(project, 2, 0, obj)
    truth = read_label_map(lvos_copy / "Annotations" / VIDEO / "00004.png")
    assert np.array_equal(project.annotation.label_map(4), truth)
    project.close()


def test_pixels_whose_object_was_in_a_lost_state_record_get_their_object_back(lvos_copy):
    _session_with_strokes(lvos_copy, [6])
    path = journal_path(lvos_copy, VIDEO)
    records = _records_of(lvos_copy)
    data = bytearray(path.read_bytes())
    for offset, kind, _ in records:
        if kind == "state":
            data[offset + 35] ^= 0x01  # every state record damaged (in its payload)
    path.write_bytes(bytes(data))
    project = Project.open(lvos_copy)
    result = project.recover()
    assert result.frames == (6,) and not result.state and result.recreated == (2,)
    assert [d.kind for d in result.dropped] == ["state"] * 2
    assert 2 in project.annotation.objects and _has_stroke(project, 6, 0, 2)
    project.save()
    saved = json.loads((lvos_copy / ".annotator" / f"{VIDEO}.json").read_text())
    assert [o["id"] for o in saved["objects"]] == [1, 2]
    project.close()


def test_a_journal_of_the_old_format_is_reported_not_read(lvos_copy):
    old = b'\x1d\x00\x00\x00{"t": "start", "shape": [48, 480, 854], "n": 0}'
    path = journal_path(lvos_copy, VIDEO)
    path.parent.mkdir()
    path.write_bytes(old)
    assert MAGIC not in old
    project = Project.open(lvos_copy)
    assert project.has_recovery()
    result = project.recover()
    assert result.frames == () and len(result.dropped) == 1
    assert result.kept is not None and result.kept.read_bytes() == old
    assert not project.has_recovery()  # nothing unsaved: no new journal
    project.close()


def test_scan_resynchronises_past_garbage_and_stops_at_a_tail():
    first = encode_record({"t": "frame", "i": 1}, b"a" * 50)
    second = encode_record({"t": "frame", "i": 2}, b"b" * 50)
    data = first + b"garbage" + MAGIC + b"\x05" + second + second[:10]
    records, dropped = scan(data)
    assert [r.header["i"] for r in records] == [1, 2]
    assert [r.payload for r in records] == [b"a" * 50, b"b" * 50]
    assert [(d.offset, d.size) for d in dropped] == [
        (len(first), 12),
        (len(data) - 10, 10),
    ]
    assert dropped[0].reason.startswith("unreadable") and dropped[1].reason.startswith("cut")
