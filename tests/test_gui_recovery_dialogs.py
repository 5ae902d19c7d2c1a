"""The window tells the truth about unsaved work: what a recovery brought back and dropped and
where the damaged journal is kept, that work is NOT protected while the journal cannot be
written, and how to go on when the video's state file is damaged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui_helpers import make_window
from hostile_files import lvos_dataset
from PyQt6.QtWidgets import QMessageBox, QProgressDialog

from annotator.annotation.journal import journal_path
from annotator.annotation.journal_records import read_journal
from annotator.annotation.marks import QAMark, Verdict
from annotator.annotation.project import Project
from annotator.annotation.state_file import DamagedState, kept_path, state_path
from annotator.gui import recovery_dialogs

VIDEO = "bear"


def _stroke(slot: int) -> np.ndarray:
    mask = np.zeros((480, 854), bool)
    mask[20 + 40 * slot : 50 + 40 * slot, 100:180] = True
    return mask


def _unsaved_session(root: Path, frames: list[int]) -> int:
    """Paint a stroke of a new object on each of `frames` (above the bear), then stop without
    saving (as a crash would); returns the object's id."""
    project = Project.open(root)
    obj = project.annotation.add_object("stone").id
    for slot, frame in enumerate(frames):
        project.annotation.paint(frame, obj, _stroke(slot))
    project.close()
    return obj


def _answer_offer(monkeypatch, answer: bool) -> list[str]:
    offered: list[str] = []

    def ask(parent, journal: str) -> bool:
        offered.append(journal)
        return answer

    monkeypatch.setattr(recovery_dialogs, "ask_recovery", ask)
    return offered


def _report(window) -> QMessageBox:
    boxes = [b for b in window.findChildren(QMessageBox) if b.objectName() == "recovery-report"]
    assert len(boxes) == 1
    return boxes[0]


def _open(qtbot, window, root: Path) -> None:
    window.controller.open(root)
    qtbot.waitUntil(lambda: window.controller.annotation is not None, timeout=30_000)


def test_a_damaged_journal_is_reported_record_by_record(qtbot, tmp_path, monkeypatch, davis_root):
    root = lvos_dataset(davis_root, tmp_path / "lvos", frames=4)
    obj = _unsaved_session(root, [0, 1, 3])
    path = journal_path(root, VIDEO)
    records, _ = read_journal(path)
    damaged = next(r for r in records if r.kind == "frame" and r.header["i"] == 1)
    data = bytearray(path.read_bytes())
    data[damaged.offset + 40] ^= 0xFF
    path.write_bytes(bytes(data))

    offered = _answer_offer(monkeypatch, True)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    _open(qtbot, window, root)
    qtbot.waitUntil(lambda: bool(offered))
    assert offered == [str(path)]
    assert any(isinstance(d, QProgressDialog) and d.isVisible()
               for d in window.findChildren(QProgressDialog)) or not c.autosaver.recovering
    qtbot.waitUntil(lambda: not c.autosaver.recovering, timeout=30_000)
    report = _report(window)
    text = report.text()
    assert report.icon() == QMessageBox.Icon.Warning and not report.isModal()
    assert text.startswith("Restored 2 frames and the objects' details")
    assert "NOT everything came back: 1 damaged part(s) of the journal were dropped" in text
    assert f"• frame 1 at byte {damaged.offset}: " in text and "checksum" in text
    kept = next(path.parent.glob(f"{path.name}.damaged-*"))
    assert f"The damaged journal is kept as {kept}" in text
    assert not [d for d in window.findChildren(QProgressDialog) if d.isVisible()]
    for slot, frame in enumerate([0, 1, 3]):
        assert (c.annotation.label_map(frame)[_stroke(slot)] == obj).all() == (frame != 1)
    assert c.autosaver.wait_idle()


def test_a_whole_recovery_says_so_without_a_warning(qtbot, tmp_path, monkeypatch, davis_root):
    root = lvos_dataset(davis_root, tmp_path / "lvos")
    _unsaved_session(root, [2])
    offered = _answer_offer(monkeypatch, True)
    window = make_window(qtbot, tmp_path, monkeypatch)
    _open(qtbot, window, root)
    qtbot.waitUntil(lambda: bool(offered) and not window.controller.autosaver.recovering,
                    timeout=30_000)
    report = _report(window)
    assert report.icon() == QMessageBox.Icon.Information
    assert report.text() == "Restored 1 frame and the objects' details."
    assert "Recovery: Restored 1 frame" in window.message_label.text()


def test_declining_deletes_the_journal(qtbot, tmp_path, monkeypatch, davis_root):
    root = lvos_dataset(davis_root, tmp_path / "lvos")
    obj = _unsaved_session(root, [2])
    offered = _answer_offer(monkeypatch, False)
    window = make_window(qtbot, tmp_path, monkeypatch)
    _open(qtbot, window, root)
    qtbot.waitUntil(lambda: bool(offered))
    assert not journal_path(root, VIDEO).exists()
    assert not (window.controller.annotation.label_map(2) == obj).any()


def test_work_is_not_protected_while_the_journal_cannot_be_written(qtbot, tmp_path,
                                                                   monkeypatch, davis_root):
    root = lvos_dataset(davis_root, tmp_path / "lvos")
    (root / ".annotator").write_text("a file where the journal's folder should be")
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    _open(qtbot, window, root)
    c.paint(_stroke(0))
    assert window.save_label.text() == "unsaved, NOT PROTECTED"
    assert "The recovery journal cannot be written" in window.last_error
    assert f"{root / '.annotator'}: " in window.last_error  # the file in the way
    assert "NOT protected against a crash" in window.last_error
    qtbot.waitUntil(lambda: c.autosaver.failures > 0, timeout=30_000)  # the state file too
    assert window.save_label.text() == "NOT SAVED"
    assert "Could not save" in window.message_label.text()
    assert "NOT protected" in window.message_label.text()
    assert "kept in the recovery journal" not in window.message_label.text()


# ---- the state file ----------------------------------------------------------------------

PAW = QAMark(Verdict.NEEDS_FIX, "check the paw")

def _saved_twice(root: Path) -> None:
    """Two saves: the state file, and the one before it kept, both with a QA mark on frame 2
    (marks live in the state file only); the second save adds a stroke to the masks."""
    project = Project.open(root)
    project.annotation.set_mark(2, PAW)
    project.save()
    project.annotation.paint(1, 1, _stroke(0))
    project.save()
    project.close()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (b'{"version": 1, "frames": 3, "objects": [{"id": 1, "category": "b\xe4r"}]}',
         r"not UTF-8 text \(byte 0xe4"),
        (b'{"version": 1, "frames": 3, "objects": "x"}', "objects must be a JSON list"),
        (b'{"version": 1, "frames": 3, "objects": [{"id": 999}]}', "object id must be 1..254"),
        (b'{"version": 1, "frames": 3, "objects": [{"id": 1}], "states": {"1": [[1, 2], [0, 5]]}}',
         "bad state run"),
    ],
)
def test_a_damaged_state_file_is_named_and_the_kept_copy_offered(tmp_path, davis_root, damage,
                                                                 message):
    root = lvos_dataset(davis_root, tmp_path / "lvos")
    _saved_twice(root)
    state_path(root, VIDEO).write_bytes(damage)
    with pytest.raises(DamagedState, match=message) as caught:
        Project.open(root)
    assert str(state_path(root, VIDEO)) in str(caught.value)
    assert caught.value.kept == kept_path(root, VIDEO)
    kept_path(root, VIDEO).write_bytes(damage)  # the copy damaged too: nothing to offer
    with pytest.raises(DamagedState) as caught:
        Project.open(root)
    assert caught.value.kept is None


@pytest.mark.parametrize("choice", ["kept", "without", None])
def test_the_window_asks_how_to_open_a_video_whose_state_file_is_damaged(
    qtbot, tmp_path, monkeypatch, davis_root, choice
):
    root = lvos_dataset(davis_root, tmp_path / "lvos")
    _saved_twice(root)
    damaged = state_path(root, VIDEO)
    damaged.write_bytes(b"\xff\xfe not a state")
    asked: list[DamagedState] = []

    def ask(parent, error: DamagedState) -> str | None:
        asked.append(error)
        return choice

    monkeypatch.setattr(recovery_dialogs, "ask_damaged_state", ask)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    c.open(root)
    qtbot.waitUntil(lambda: bool(asked), timeout=30_000)
    assert str(damaged) in str(asked[0]) and "not UTF-8 text" in str(asked[0])
    assert asked[0].kept == kept_path(root, VIDEO)
    if choice is None:  # cancelled: nothing opened, nothing touched
        qtbot.wait(200)
        assert c.annotation is None and damaged.read_bytes() == b"\xff\xfe not a state"
        return
    qtbot.waitUntil(lambda: c.annotation is not None, timeout=30_000)
    [aside] = damaged.parent.glob(f"{damaged.name}.damaged-*")
    assert aside.read_bytes() == b"\xff\xfe not a state"  # kept aside, never lost
    assert c.annotation.marks == ({2: PAW} if choice == "kept" else {})
    if choice == "kept":
        assert damaged.read_bytes() == kept_path(root, VIDEO).read_bytes()
    else:
        assert not damaged.exists()
    assert (c.annotation.label_map(1)[_stroke(0)] == 1).all()  # the masks on disk


def test_the_damaged_state_dialog_offers_three_ways(qtbot, tmp_path, monkeypatch):
    error = DamagedState("saved state is damaged (x)", tmp_path / "v.json", tmp_path / "v.kept")
    seen: list[list[str]] = []

    def exec_(box: QMessageBox) -> int:
        seen.append([b.text() for b in box.buttons()])
        box.buttons()[0].click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    recovery_dialogs.ask_damaged_state(None, error)
    assert sorted(seen[0]) == sorted(["Cancel", "Open without the state",
                                      "Restore the copy from the save before"])
    error_without_copy = DamagedState("x", tmp_path / "v.json", None)
    recovery_dialogs.ask_damaged_state(None, error_without_copy)
    assert sorted(seen[1]) == ["Cancel", "Open without the state"]
