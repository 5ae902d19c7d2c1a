"""`vos-annotator evaluate` on real masks: each toolkit's frame choice, counted by hand."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from annotator.cli import main
from annotator.formats.masks import read_label_map, write_label_map
from annotator.quality.metrics import boundary_f, jaccard

FRAMES = 12


def _copy_sequence(davis_root: Path, out: Path, name: str, stems: list[str]) -> list[np.ndarray]:
    """Copy the first FRAMES bear masks under new names as palette label maps."""
    source = davis_root / "Annotations" / "480p" / "bear"
    masks = []
    for i, stem in enumerate(stems):
        labels = read_label_map(source / f"{i:05d}.png")
        write_label_map(out / name / f"{stem}.png", labels)
        masks.append(labels)
    return masks


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_davis_layout_scores_all_but_first_and_last(davis_root, tmp_path, capsys):
    stems = [f"{i:05d}" for i in range(FRAMES)]
    gt = _copy_sequence(davis_root, tmp_path / "gt", "bear", stems)
    pred_dir = tmp_path / "pred"
    shutil.copytree(tmp_path / "gt", pred_dir)
    # Wrong first and last frames do not count; a shifted middle frame does.
    write_label_map(pred_dir / "bear" / f"{stems[0]}.png", np.zeros_like(gt[0]))
    write_label_map(pred_dir / "bear" / f"{stems[-1]}.png", np.zeros_like(gt[0]))
    shifted = np.roll(gt[5], 10, axis=1)
    write_label_map(pred_dir / "bear" / f"{stems[5]}.png", shifted)
    csv_dir = tmp_path / "csv"
    code = main(["evaluate", "--gt", str(tmp_path / "gt"), "--pred", str(pred_dir),
                 "--csv", str(csv_dir), "--jobs", "2"])
    assert code == 0
    j5 = jaccard(gt[5] == 1, shifted == 1)
    f5 = boundary_f(gt[5] == 1, shifted == 1)
    scored = FRAMES - 2
    expected_j = (scored - 1 + j5) / scored
    expected_f = (scored - 1 + f5) / scored
    rows = _read_csv(csv_dir / "global_results-val.csv")
    assert list(rows[0]) == ["J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall",
                             "F-Decay", "V-Mean"]
    assert float(rows[0]["J-Mean"]) == pytest.approx(expected_j, abs=5e-4)
    assert float(rows[0]["F-Mean"]) == pytest.approx(expected_f, abs=5e-4)
    assert float(rows[0]["J&F-Mean"]) == pytest.approx((expected_j + expected_f) / 2, abs=5e-4)
    seq = _read_csv(csv_dir / "per-sequence_results-val.csv")
    assert [r["Sequence"] for r in seq] == ["bear_1"]
    assert list(seq[0]) == ["Sequence", "J-Mean", "F-Mean", "V-Mean"]
    assert float(seq[0]["V-Mean"]) > 0.0
    out = capsys.readouterr()
    assert "bear_1" in out.out
    assert "scoring frames" in out.err


def test_lvos_protocol_scores_the_toolkits_frames(davis_root, tmp_path):
    """The LVOS toolkit walks ids range(start, end, 5) and skips the first: for a range
    00000000..00000011 that is ids 0, 5, 10, so frames 5 and 10 are scored (counted by hand)."""
    stems = [f"{i:08d}" for i in range(FRAMES)]
    root = tmp_path / "lvos"
    gt = _copy_sequence(davis_root, root / "Annotations", "vid_a", stems)
    _copy_sequence(davis_root, root / "Annotations", "vid_b", stems)
    pred_dir = tmp_path / "pred"
    shutil.copytree(root / "Annotations", pred_dir)
    empty = np.zeros_like(gt[0])
    for i in (0, 3, 5):  # 0 is skipped, 3 is not walked, 5 is scored
        write_label_map(pred_dir / "vid_a" / f"{stems[i]}.png", empty)
    meta = {"videos": {
        name: {"objects": {"1": {"frame_range": {"start": stems[0], "end": stems[-1],
                                                 "frame_nums": 4}}}}
        for name in ("vid_a", "vid_b")
    }}
    (root / "valid_meta.json").write_text(json.dumps(meta))  # found as <set>_meta.json
    (root / "unseen.txt").write_text("vid_b\n")
    csv_dir = tmp_path / "csv"
    code = main(["evaluate", "--gt", str(root), "--pred", str(pred_dir), "--protocol", "lvos",
                 "--unseen", str(root / "unseen.txt"), "--csv", str(csv_dir), "--jobs", "1"])
    assert code == 0
    rows = _read_csv(csv_dir / "global_results-valid.csv")[0]
    assert list(rows) == ["J&F-Mean", "J-Mean", "J-seen-Mean", "J-unseen-Mean", "F-Mean",
                          "F-seen-Mean", "F-unseen-Mean", "V-Mean", "V-seen-Mean",
                          "V-unseen-Mean"]
    # vid_a: J = F = (0 + 1) / 2 on frames 5 and 10; vid_b is perfect.
    assert float(rows["J-seen-Mean"]) == pytest.approx(0.5, abs=5e-4)
    assert float(rows["F-seen-Mean"]) == pytest.approx(0.5, abs=5e-4)
    assert float(rows["J-unseen-Mean"]) == pytest.approx(1.0)
    assert float(rows["J-Mean"]) == pytest.approx(0.75, abs=5e-4)  # mean of seen and unseen
    assert float(rows["J&F-Mean"]) == pytest.approx(0.75, abs=5e-4)
    # V of vid_a: per-frame (J+F)/2 = 0, 1 -> variance 0.25, sqrt.
    seq = {r["Sequence"]: r for r in _read_csv(csv_dir / "per-sequence_results-valid.csv")}
    assert float(seq["vid_a_1"]["V-Mean"]) == pytest.approx(0.5, abs=5e-4)
    assert float(seq["vid_b_1"]["V-Mean"]) == 0.0
    assert (csv_dir / "global_results-valid-notes.txt").read_text() == "no notes\n"


def test_lvos_toolkit_slips_are_noted_not_copied(davis_root, tmp_path, capsys):
    stems = [f"{1 + 5 * i:08d}" for i in range(FRAMES)]  # LVOS ids 1, 6, ..., 56
    root = tmp_path / "lvos"
    _copy_sequence(davis_root, root / "Annotations", "vid", stems)
    pred = tmp_path / "pred"
    shutil.copytree(root / "Annotations", pred)
    ranges = {
        "1": {"start": stems[0], "end": stems[-1], "frame_nums": 40},  # toolkit: 12
        "2": {"start": stems[4], "end": stems[4], "frame_nums": 1},  # one frame only
    }
    meta = {"videos": {"vid": {"objects": {k: {"frame_range": r} for k, r in ranges.items()}}}}
    (root / "valid_meta.json").write_text(json.dumps(meta))
    csv_dir = tmp_path / "csv"
    assert main(["evaluate", "--gt", str(root), "--pred", str(pred), "--meta",
                 str(root / "valid_meta.json"), "--csv", str(csv_dir), "--jobs", "1"]) == 0
    rows = _read_csv(csv_dir / "global_results-valid.csv")[0]
    assert float(rows["J-Mean"]) == 1.0  # the walked frames count, not 40 - 2 slots
    assert rows["J-unseen-Mean"] == "nan"
    notes = (csv_dir / "global_results-valid-notes.txt").read_text()
    assert "vid_1 (object 1): frame_nums is 40 but the range walks 11 ids (expected 12)" in notes
    assert "counts the frames it does not walk as 0" in notes
    assert "vid_2 (object 2): no frame to score" in notes
    assert "no video is unseen: the LVOS toolkit's J&F, J, F and V means are NaN" in notes
    assert "frame_nums is 40" in capsys.readouterr().err


def test_davis2017_protocol_objects_of_the_first_frame_and_the_listed_sequences(
    davis_root, tmp_path
):
    """DAVIS 2017: objects 1 .. the first mask's highest id; masks 1 .. n-2 of each sequence;
    only the sequences of ImageSets/2017/<set>.txt."""
    stems = [f"{i:05d}" for i in range(6)]
    root = tmp_path / "davis"
    annotations = root / "Annotations" / "480p"
    gt = _copy_sequence(davis_root, annotations, "two", stems)
    _copy_sequence(davis_root, annotations, "unlisted", stems)
    late = gt[3].copy()
    late[0:40, 0:40] = 2  # object 2 appears after the first frame: not scored
    write_label_map(annotations / "two" / f"{stems[3]}.png", late)
    (root / "ImageSets" / "2017").mkdir(parents=True)
    (root / "ImageSets" / "2017" / "val.txt").write_text("two\n")
    pred = tmp_path / "pred"
    shutil.copytree(annotations, pred)
    write_label_map(pred / "two" / f"{stems[2]}.png", np.zeros_like(gt[0]))  # scored
    write_label_map(pred / "two" / f"{stems[5]}.png", np.zeros_like(gt[0]))  # last: not
    csv_dir = tmp_path / "csv"
    assert main(["evaluate", "--gt", str(root), "--pred", str(pred), "--protocol",
                 "davis2017", "--csv", str(csv_dir), "--jobs", "1"]) == 0
    seq = _read_csv(csv_dir / "per-sequence_results-val.csv")
    assert [r["Sequence"] for r in seq] == ["two_1"]
    assert float(seq[0]["J-Mean"]) == pytest.approx(3 / 4, abs=5e-4)  # frames 1..4, one empty


def test_set_and_split_names_cannot_leave_their_folder(davis_root, tmp_path, capsys):
    _copy_sequence(davis_root, tmp_path / "gt", "bear", [f"{i:05d}" for i in range(4)])
    code = main(["evaluate", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "gt"),
                 "--csv", str(tmp_path / "csv"), "--set", "../../x", "--jobs", "1"])
    assert code == 2 and "set '../../x' is not a plain name" in capsys.readouterr().err
    assert not (tmp_path / "csv").exists() and not (tmp_path.parent / "x").exists()


def test_void_is_left_out_and_the_notes_say_so(davis_root, tmp_path):
    stems = [f"{i:05d}" for i in range(4)]
    gt = _copy_sequence(davis_root, tmp_path / "gt", "bear", stems)
    pred = tmp_path / "pred"
    shutil.copytree(tmp_path / "gt", pred)
    voided = gt[1].copy()
    rows = np.flatnonzero(voided.any(axis=1))
    voided[rows[0] : rows[0] + 10][voided[rows[0] : rows[0] + 10] == 1] = 255
    write_label_map(tmp_path / "gt" / "bear" / f"{stems[1]}.png", voided)
    csv_dir = tmp_path / "csv"
    assert main(["evaluate", "--gt", str(tmp_path / "gt"), "--pred", str(pred),
                 "--csv", str(csv_dir), "--jobs", "1"]) == 0
    assert float(_read_csv(csv_dir / "global_results-val.csv")[0]["J-Mean"]) == 1.0
    notes = (csv_dir / "global_results-val-notes.txt").read_text()
    assert notes.startswith("1 scored frame(s) hold void (255) in the ground truth")


def test_missing_prediction_is_a_clear_error(davis_root, tmp_path, capsys):
    stems = [f"{i:05d}" for i in range(4)]
    _copy_sequence(davis_root, tmp_path / "gt", "bear", stems)
    shutil.copytree(tmp_path / "gt", tmp_path / "pred")
    (tmp_path / "pred" / "bear" / "00002.png").unlink()
    code = main(["evaluate", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "pred"),
                 "--jobs", "1"])
    assert code == 2
    err = capsys.readouterr().err
    assert "00002.png" in err and "missing" in err


def test_bad_meta_file_is_a_clear_error(davis_root, tmp_path, capsys):
    _copy_sequence(davis_root, tmp_path / "gt", "bear", ["00000000"])
    meta = tmp_path / "meta.json"
    meta.write_text('{"videos": {"bear": {"objects": {"1": {}}}}}')
    code = main(["evaluate", "--gt", str(tmp_path / "gt"), "--pred", str(tmp_path / "gt"),
                 "--meta", str(meta)])
    assert code == 2
    assert "meta.json" in capsys.readouterr().err
