"""Open, save and recover a video annotated in place (LVOS layout on disk)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from annotator.annotation import FrameState
from annotator.annotation.journal import journal_path
from annotator.annotation.journal_records import encode_record, read_journal
from annotator.annotation.marks import QAMark, Verdict
from annotator.annotation.project import Project
from annotator.errors import AnnotatorError
from annotator.formats.masks import read_label_map

REPO = Path(__file__).resolve().parents[1]


def _stroke(y: int) -> np.ndarray:
    mask = np.zeros((480, 854), bool)
    mask[y : y + 20, 30:90] = True
    return mask


def test_open_edit_save_reopen(lvos_copy: Path, davis_root: Path) -> None:
    project = Project.open(lvos_copy)
    annotation = project.annotation
    assert (project.video, len(annotation), annotation.size) == ("soccerball", 48, (480, 854))
    truth = read_label_map(davis_root / "Annotations/480p/soccerball/00010.png")
    assert np.array_equal(annotation.label_map(10), truth)
    assert annotation.state(10, 1) == FrameState.KEYFRAME and not annotation.is_dirty

    ball = annotation.add_object("ball", "the ball in the air")
    annotation.paint(5, ball.id, _stroke(0))
    annotation.paint(6, ball.id, _stroke(40))
    annotation.set_mark(6, QAMark(Verdict.NEEDS_FIX, "check the edge"))
    before = {
        p.name: p.stat().st_mtime_ns for p in (lvos_copy / "Annotations/soccerball").iterdir()
    }
    assert project.save() == 2
    after = {p.name: p.stat().st_mtime_ns for p in (lvos_copy / "Annotations/soccerball").iterdir()}
    changed = sorted(name for name in after if after[name] != before[name])
    assert changed == ["00005.png", "00006.png"]  # only changed frames are written
    assert not annotation.is_dirty and not project.has_recovery()

    meta = json.loads((lvos_copy / "train_meta.json").read_text())["videos"]["soccerball"]
    assert meta["objects"]["2"] == {
        "category": "ball",
        "frame_range": {"start": "00005", "end": "00006", "frame_nums": 2},
    }
    assert meta["objects"]["1"]["frame_range"] == {
        "start": "00000",
        "end": "00047",
        "frame_nums": 48,
    }
    assert meta["image_size"] == [480, 854]
    expressions = json.loads((lvos_copy / "train_expression_meta.json").read_text())
    assert expressions["videos"]["soccerball"]["expressions"]["0"] == {
        "exp": "the ball in the air",
        "obj_id": "2",
    }
    project.close()

    again = Project.open(lvos_copy)
    assert again.annotation.objects[2].caption == "the ball in the air"
    assert again.annotation.state(6, 2) == FrameState.KEYFRAME
    assert again.annotation.marks == {6: QAMark(Verdict.NEEDS_FIX, "check the edge")}
    assert (again.annotation.label_map(6) == 2).sum() == 20 * 60
    again.close()


def test_killed_app_loses_nothing_but_the_stroke_in_flight(lvos_copy: Path) -> None:
    child = f"""
import sys, time, numpy as np
sys.path.insert(0, {str(REPO)!r})
from annotator.annotation.project import Project
project = Project.open({str(lvos_copy)!r})
obj = project.annotation.add_object("ball").id
for y in (0, 40, 80):
    mask = np.zeros((480, 854), bool); mask[y:y + 20, 30:90] = True
    project.annotation.paint(3, obj, mask)
print("painted", flush=True)
time.sleep(60)
"""
    process = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "painted"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    project = Project.open(lvos_copy)
    assert project.has_recovery()
    assert (project.annotation.label_map(3) == 2).sum() == 0  # not saved
    assert project.recover().frames == (3,)
    assert (project.annotation.label_map(3) == 2).sum() == 3 * 20 * 60
    assert project.annotation.objects[2].category == "ball"
    assert project.annotation.is_dirty
    project.save()
    assert not project.has_recovery()
    project.close()
    assert (read_label_map(lvos_copy / "Annotations/soccerball/00003.png") == 2).sum() == 3600


def test_recovery_ignores_a_record_cut_short(lvos_copy: Path) -> None:
    project = Project.open(lvos_copy)
    obj = project.annotation.add_object().id
    project.annotation.paint(7, obj, _stroke(100))
    project.close()
    with open(journal_path(lvos_copy, "soccerball"), "ab") as handle:
        handle.write(encode_record({"t": "frame", "i": 8}, b"x" * 64)[:40])  # crash mid-record
    project = Project.open(lvos_copy)
    result = project.recover()
    assert result.frames == (7,)
    assert [d.reason.split(" (")[0] for d in result.dropped] == ["cut short"]
    assert (project.annotation.label_map(7) == obj).sum() == 1200
    original = read_label_map(lvos_copy / "Annotations/soccerball/00008.png")
    assert np.array_equal(project.annotation.label_map(8), original)
    project.close()  # not saved: the clean journal holds the recovered frame
    project = Project.open(lvos_copy)
    assert project.has_recovery()
    project.discard_recovery()  # the person says no
    assert not project.has_recovery()
    assert not (project.annotation.label_map(7) == obj).any()
    project.close()


def test_journal_of_another_video_shape_is_refused(lvos_copy: Path) -> None:
    project = Project.open(lvos_copy)
    project.annotation.paint(0, 1, _stroke(0))
    project.close()
    for extra in range(48, 50):  # the video gains frames after the crash
        source = lvos_copy / "JPEGImages/soccerball/00000.jpg"
        (lvos_copy / f"JPEGImages/soccerball/{extra:05d}.jpg").write_bytes(source.read_bytes())
    project = Project.open(lvos_copy)
    with pytest.raises(AnnotatorError, match="journal"):
        project.recover()
    project.close()


def test_changes_made_while_saving_stay_unsaved(lvos_copy: Path) -> None:
    project = Project.open(lvos_copy)
    annotation = project.annotation
    obj = annotation.add_object().id
    annotation.paint(1, obj, _stroke(0))
    annotation.paint(2, obj, _stroke(0))

    def paint_meanwhile(done: int, total: int) -> None:  # as the GUI thread would, mid-save
        if done == 1:
            annotation.paint(9, obj, _stroke(200))

    assert project.save(paint_meanwhile) == 2
    assert annotation.dirty_frames == {9} and annotation.meta_dirty
    assert project.has_recovery()  # the journal still holds the change made meanwhile
    assert not (read_label_map(lvos_copy / "Annotations/soccerball/00009.png") == obj).any()
    assert project.save() == 1 and not annotation.is_dirty and not project.has_recovery()
    assert (read_label_map(lvos_copy / "Annotations/soccerball/00009.png") == obj).sum() == 1200
    project.close()


def test_failed_save_keeps_everything_unsaved(lvos_copy: Path) -> None:
    project = Project.open(lvos_copy)
    obj = project.annotation.add_object().id
    project.annotation.paint(4, obj, _stroke(0))
    (lvos_copy / "train_meta.json").write_text("not json")  # someone broke the meta file
    with pytest.raises(AnnotatorError, match=r"train_meta.json"):
        project.save()
    assert project.annotation.dirty_frames == {4} and project.annotation.meta_dirty
    assert project.has_recovery()
    project.close()


def _journal_kinds(root: Path) -> list[str]:
    records, dropped = read_journal(journal_path(root, "soccerball"))
    assert not dropped
    return [record.kind for record in records]


def test_journal_writes_the_state_only_when_it_changed(lvos_copy: Path) -> None:
    project = Project.open(lvos_copy)
    annotation = project.annotation
    obj = annotation.add_object("ball").id
    annotation.paint(5, obj, _stroke(0))  # new keyframe state: frame and state records
    for y in (40, 80, 120):  # more strokes on the same keyframe: frame records only
        annotation.paint(5, obj, _stroke(y))
    annotation.update_object(obj, caption="the ball")  # details changed: a state record
    assert _journal_kinds(lvos_copy) == [
        "start", "state", "frame", "state", "frame", "frame", "frame", "state"
    ]
    project.close()
    project = Project.open(lvos_copy)
    assert project.recover().frames == (5,)
    assert (project.annotation.label_map(5) == obj).sum() == 4 * 1200
    assert project.annotation.objects[obj].caption == "the ball"
    assert project.annotation.state(5, obj) == FrameState.KEYFRAME
    project.close()


def test_damaged_saved_state_is_refused(lvos_copy: Path) -> None:
    project = Project.open(lvos_copy)
    project.annotation.set_mark(3, QAMark(Verdict.NEEDS_FIX, "check"))
    project.save()
    project.close()
    state_file = lvos_copy / ".annotator/soccerball.json"
    data = json.loads(state_file.read_text())
    data["states"]["1"] = [[1, 10]]  # runs that cover 10 of the 48 frames
    state_file.write_text(json.dumps(data))
    with pytest.raises(AnnotatorError, match=r"soccerball.json.*damaged|damaged.*48"):
        Project.open(lvos_copy)
