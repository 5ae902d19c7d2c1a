"""`vos-annotator evaluate` on real masks: DAVIS frame choice, LVOS meta ranges, CSV files."""

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


def test_lvos_meta_every_fifth_frame_and_unseen(davis_root, tmp_path):
    stems = [f"{i:08d}" for i in range(FRAMES)]
    root = tmp_path / "lvos"
    gt = _copy_sequence(davis_root, root / "Annotations", "vid_a", stems)
    _copy_sequence(davis_root, root / "Annotations", "vid_b", stems)
    pred_dir = tmp_path / "pred"
    shutil.copytree(root / "Annotations", pred_dir)
    empty = np.zeros_like(gt[0])
    # vid_a: frames 0, 5 scored (range 0..11, end excluded); frame 3 wrong but not scored.
    write_label_map(pred_dir / "vid_a" / f"{stems[3]}.png", empty)
    write_label_map(pred_dir / "vid_a" / f"{stems[5]}.png", empty)
    meta = {"videos": {
        name: {"objects": {"1": {"frame_range": {"start": stems[0], "end": stems[-1],
                                                 "frame_nums": 3}}}}
        for name in ("vid_a", "vid_b")
    }}
    (root / "val_meta.json").write_text(json.dumps(meta))
    (root / "unseen.txt").write_text("vid_b\n")
    csv_dir = tmp_path / "csv"
    code = main(["evaluate", "--gt", str(root), "--pred", str(pred_dir),
                 "--meta", str(root / "val_meta.json"), "--unseen", str(root / "unseen.txt"),
                 "--csv", str(csv_dir), "--set", "valid", "--jobs", "1"])
    assert code == 0
    rows = _read_csv(csv_dir / "global_results-valid.csv")[0]
    # Scored frames 0, 5, 10: vid_a gets J = F = 2/3 (frame 5 empty), vid_b is perfect.
    assert float(rows["J-seen-Mean"]) == pytest.approx(2 / 3, abs=5e-4)
    assert float(rows["J-unseen-Mean"]) == pytest.approx(1.0)
    assert float(rows["F-seen-Mean"]) == pytest.approx(2 / 3, abs=5e-4)
    assert float(rows["J-Mean"]) == pytest.approx(5 / 6, abs=5e-4)
    assert float(rows["J&F-Mean"]) == pytest.approx(5 / 6, abs=5e-4)
    # V of vid_a: per-frame (J+F)/2 = 1, 0, 1 -> variance 2/9 (rounded to 0.2222), sqrt.
    seq = {r["Sequence"]: r for r in _read_csv(csv_dir / "per-sequence_results-valid.csv")}
    assert float(seq["vid_a_1"]["V-Mean"]) == pytest.approx(np.sqrt(0.2222), abs=5e-4)
    assert float(seq["vid_b_1"]["V-Mean"]) == 0.0


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
