"""The `review` command on a real DAVIS sequence whose "prediction" is its ground truth damaged
on known frames: the damaged frames lead the CSV with and without ground truth, the flags name
them, the report and the overlay video are written into the chosen folder and read back; LV-VIS
results JSON predictions (overlapping instances, ids matched to the truth); the marks and
confidence a GUI session saved come back in the report."""

from __future__ import annotations

import csv
import os
import re
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
from review_helpers import DAMAGED, FRAMES, HALVED, SEQUENCE, SHIFTED, counted_iou, damage, truth

from annotator.annotation import FrameState
from annotator.annotation.marks import QAMark, Verdict
from annotator.annotation.project import Project
from annotator.cli import main
from annotator.formats.lvvis import write_results
from annotator.formats.masks import write_label_map
from annotator.quality.flags import FlagKind


@pytest.fixture(scope="module")
def clip(tmp_path_factory, davis_root) -> Path:
    """A frame folder: the first FRAMES frames of the sequence (hard links)."""
    folder = tmp_path_factory.mktemp("clip") / SEQUENCE
    folder.mkdir()
    for path in sorted((davis_root / "JPEGImages" / "480p" / SEQUENCE).glob("*.jpg"))[:FRAMES]:
        try:
            os.link(path, folder / path.name)
        except OSError:
            shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="module")
def damaged(tmp_path_factory, davis_root) -> Path:
    """The prediction: a folder of PNGs, the truth damaged on DAMAGED."""
    folder = tmp_path_factory.mktemp("pred") / SEQUENCE
    for i in range(FRAMES):
        write_label_map(folder / f"{i:05d}.png", damage(truth(davis_root, i), i))
    return folder


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_planted_errors_lead_the_report_with_and_without_ground_truth(
        tmp_path, clip, damaged, davis_root, capsys):
    report, movie = tmp_path / "report", tmp_path / "report" / "overlay.mp4"
    assert main(["review", str(damaged), "--frames", str(clip), "--gt", str(davis_root),
                 "--report", str(report), "--video", str(movie)]) == 0
    printed = capsys.readouterr().out
    assert f"{SEQUENCE}: {FRAMES} frames" in printed
    rows = read_rows(report / "frames.csv")
    assert len(rows) == FRAMES
    assert {int(r["index"]) for r in rows[:3]} == DAMAGED  # worst first: the damaged frames
    for row in rows[:3]:
        index = int(row["index"])
        expected = counted_iou(truth(davis_root, index) == 1,
                               damage(truth(davis_root, index), index) == 1)
        assert float(row["J"]) == pytest.approx(expected, abs=5e-4)
        assert row["flags"]  # flagged by the checks too
    assert [float(r["J&F"]) for r in rows] == sorted(float(r["J&F"]) for r in rows)
    assert all(r["J&F"] == "1.000" for r in rows[3:])
    objects = read_rows(report / "objects.csv")
    assert [o["object"] for o in objects] == ["1"] and int(objects[0]["frames"]) == FRAMES

    # the page: one plot per object, thumbnails of the damaged frames, the legend
    page = (report / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and "J&amp;F per frame" in page
    shown = re.findall(r"alt='frame (\d+)'", page)
    assert {int(name) for name in shown[:3]} == DAMAGED
    assert "missed (false negative)" in page and "extra (false positive)" in page
    # written into the folder only, nothing half-written left beside
    assert sorted(p.name for p in report.iterdir()) == [
        "frames.csv", "objects.csv", "overlay.mp4", "report.html"]

    # the video read back: every frame, at the frames' size
    with av.open(str(movie)) as container:
        stream = container.streams.video[0]
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    assert len(decoded) == FRAMES and decoded[0].shape == (480, 854, 3)
    # on the shifted frame the differences are painted: magenta where the bear was missed
    missed = (truth(davis_root, SHIFTED) == 1) & (damage(truth(davis_root, SHIFTED),
                                                         SHIFTED) != 1)
    pixel = decoded[SHIFTED][missed][len(missed[missed]) // 2]
    assert pixel[0] > 150 and pixel[1] < 110 and pixel[2] > 150, pixel

    # without ground truth: the flags alone put the damaged frames first, for their reasons
    bare = tmp_path / "bare"
    assert main(["review", str(damaged), "--frames", str(clip), "--report", str(bare)]) == 0
    rows = read_rows(bare / "frames.csv")
    assert {int(r["index"]) for r in rows[:3]} == DAMAGED and not rows[3]["flags"]
    assert all(r["J&F"] == "" for r in rows)
    for index in HALVED:
        assert "area change:" in next(r["flags"] for r in rows if int(r["index"]) == index)
    assert "jump: centre" in next(
        r["flags"] for r in rows if int(r["index"]) == SHIFTED)
    assert "without ground truth" in (bare / "report.html").read_text(encoding="utf-8")


def test_results_json_with_overlapping_instances(tmp_path, clip, damaged, davis_root, capsys):
    """A results JSON: instances in no particular order, one of them overlapping the bear on
    one frame; the overlap is flagged, the bear is matched to ground-truth object 1."""
    from annotator.formats.lvvis import encode_masks

    bear = [damage(truth(davis_root, i), i) for i in range(FRAMES)]
    blob = np.zeros((480, 854), np.uint8)
    ys, xs = np.nonzero(bear[9] == 1)
    y, x = int(np.median(ys)), int(np.median(xs))
    blob[y - 30:y + 30, x - 30:x + 30] = 1  # on the bear
    shared = int(((blob == 1) & (bear[9] == 1)).sum())
    entries = [
        {"id": 1, "video_id": 1, "category_id": 1,
         "segmentations": [encode_masks(blob, [1])[0] if i == 9 else None
                           for i in range(FRAMES)]},
        {"id": 2, "video_id": 1, "category_id": 1,
         "segmentations": [encode_masks(labels, [1])[0] for labels in bear]},
        {"id": 3, "video_id": 1, "category_id": 1,  # a low score: left out
         "segmentations": [encode_masks(bear[0], [1])[0] for _ in range(FRAMES)]},
    ]
    results = tmp_path / "results.json"
    write_results(results, {"annotations": entries}, {1: 0.7, 2: 0.9, 3: 0.2})

    report = tmp_path / "report"
    assert main(["review", str(results), "--frames", str(clip), "--gt", str(davis_root),
                 "--report", str(report)]) == 0
    rows = {int(r["index"]): r for r in read_rows(report / "frames.csv")}
    # the bear (the higher score) kept its pixels and was matched to object 1 of the truth
    for index in range(FRAMES):
        expected = counted_iou(truth(davis_root, index) == 1, bear[index] == 1)
        object_j = float(rows[index]["J"]) if index != 9 else None
        if object_j is not None:  # frame 9 also scores object 2 (0 against no truth)
            assert object_j == pytest.approx(expected, abs=5e-4)
        assert rows[index]["J&F per object"].startswith(
            "1=1.000" if index not in DAMAGED else "1=0.")
    assert shared > 2000
    assert f"object 1: overlap: shares {shared:,} px with object 2 in the source" in \
        rows[9]["flags"]
    objects = {o["object"]: o for o in read_rows(report / "objects.csv")}
    assert objects["1"]["result score"] == "0.900" and objects["2"]["result score"] == "0.700"
    assert "3" not in objects

    # two videos in one results file and nothing to say which is which: a clear refusal
    entries.append({**entries[1], "id": 4, "video_id": 2})
    write_results(results, {"annotations": entries})
    assert main(["review", str(results), "--frames", str(clip), "--report",
                 str(tmp_path / "other")]) == 2
    assert "names videos by id only" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()


def test_marks_and_confidence_saved_by_a_session_reach_the_report(tmp_path, clip, damaged):
    """A dataset the tool annotated: its saved marks and the propagator's confidence (so the
    low-confidence flag) are read with its masks."""
    root = tmp_path / "data"
    shutil.copytree(clip, root / "JPEGImages" / SEQUENCE)
    shutil.copytree(damaged, root / "Annotations" / SEQUENCE)
    project = Project.open(root, SEQUENCE)
    annotation = project.annotation
    annotation.set_state(4, 1, FrameState.PROPAGATED)  # the model's mask, not a person's
    annotation.apply_propagated(4, annotation.label_map(4), confidence={1: 0.2})
    annotation.set_mark(3, QAMark(Verdict.NEEDS_FIX, "right half missing"))
    annotation.set_mark(0, QAMark(Verdict.ACCEPTED))
    project.save()
    project.close()

    report = tmp_path / "report"
    assert main(["review", str(root), "--frames", str(root / "JPEGImages" / SEQUENCE),
                 "--report", str(report)]) == 0
    rows = {int(r["index"]): r for r in read_rows(report / "frames.csv")}
    assert (rows[3]["mark"], rows[3]["comment"]) == ("needs fix", "right half missing")
    assert rows[0]["mark"] == "accepted" and rows[1]["mark"] == ""
    assert "object 1: low confidence: 0.200 < 0.5" in rows[4]["flags"]
    assert FlagKind.LOW_CONFIDENCE.value == "low confidence"
    page = (report / "report.html").read_text(encoding="utf-8")
    assert "right half missing" in page and "1 accepted, 1 needs fix, 10 unreviewed" in page


def test_bad_input_is_named(tmp_path, clip, damaged, capsys):
    assert main(["review", str(tmp_path / "nothing"), "--frames", str(clip), "--report",
                 str(tmp_path / "r")]) == 2
    assert f"{tmp_path / 'nothing'}: no such folder" in capsys.readouterr().err
    assert main(["review", str(damaged), "--frames", str(clip), "--report", str(tmp_path / "r"),
                 "--video", str(tmp_path / "out.avi")]) == 2
    assert "must be an .mp4 file" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["review", str(empty), "--frames", str(clip), "--report",
                 str(tmp_path / "r")]) == 2
    assert "no masks for video 'bear'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
