"""`batch evaluate` writes what `evaluate` writes, for the whole set and video by video, under
both protocols; a rerun scores only what changed or failed."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from davis_helpers import copy_davis_sequence

from annotator.cli import main
from annotator.formats.convert import Options, convert
from annotator.formats.frame_ids import IdScheme
from annotator.formats.masks import read_label_map, write_label_map

SEQUENCES = ("bear", "boat", "soccerball")
FRAMES = 8
CSV_FILES = ("global_results-{}.csv", "per-sequence_results-{}.csv",
             "global_results-{}-notes.txt")


def _perturb(truth: Path, pred: Path) -> None:
    """Predictions: the truth, with every third mask shifted by a few pixels per sequence."""
    for number, sequence in enumerate(sorted(p.name for p in truth.iterdir())):
        for index, mask in enumerate(sorted((truth / sequence).glob("*.png"))):
            labels = read_label_map(mask)
            if index % 3 == 1:
                labels = np.roll(labels, 6 * (number + 1), axis=1)
            write_label_map(pred / sequence / mask.name, labels)


@pytest.fixture(scope="module")
def sets(davis_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """DAVIS ground truth (three sequences), its LVOS conversion (ids from 1 in steps of 5,
    with meta), and predictions for each."""
    base = tmp_path_factory.mktemp("sets")
    davis = base / "davis"
    for sequence in SEQUENCES:
        copy_davis_sequence(davis_root, davis, sequence, FRAMES)
    lvos = base / "lvos"
    convert(davis, lvos, "lvos", split="valid", options=Options(ids=IdScheme(1, 5)))
    _perturb(davis / "Annotations" / "480p", base / "davis-pred")
    _perturb(lvos / "Annotations", base / "lvos-pred")
    (base / "unseen.txt").write_text("boat\n")
    return {"davis": davis, "davis-pred": base / "davis-pred", "lvos": lvos,
            "lvos-pred": base / "lvos-pred", "unseen": base / "unseen.txt"}


def _files(folder: Path, set_name: str) -> dict[str, str]:
    return {name.format(set_name): (folder / name.format(set_name)).read_text()
            for name in CSV_FILES}


def _rows(folder: Path, set_name: str) -> dict[str, dict[str, str]]:
    with (folder / f"per-sequence_results-{set_name}.csv").open(newline="") as handle:
        return {row["Sequence"]: row for row in csv.DictReader(handle)}


@pytest.mark.parametrize("protocol", ["davis2017", "lvos"])
def test_batch_evaluate_equals_evaluate_whole_and_video_by_video(
    protocol: str, sets: dict[str, Path], tmp_path: Path
) -> None:
    gt, pred = (sets["lvos"], sets["lvos-pred"]) if protocol == "lvos" else (
        sets["davis"], sets["davis-pred"])
    chosen = ["--protocol", protocol]
    if protocol == "lvos":
        chosen += ["--unseen", str(sets["unseen"])]
    set_name = "valid" if protocol == "lvos" else "val"
    assert main(["batch", "evaluate", "--gt", str(gt), "--pred", str(pred), *chosen,
                 "--csv", str(tmp_path / "batch"), "--workers", "2"]) == 0
    assert main(["evaluate", "--gt", str(gt), "--pred", str(pred), *chosen,
                 "--csv", str(tmp_path / "whole"), "--jobs", "1"]) == 0
    assert _files(tmp_path / "batch", set_name) == _files(tmp_path / "whole", set_name)
    rows = _rows(tmp_path / "batch", set_name)
    assert sorted(rows) == [f"{s}_1" for s in SEQUENCES]
    assert len({row["J-Mean"] for row in rows.values()}) == len(SEQUENCES)  # shifts differ
    for sequence in SEQUENCES:
        alone = tmp_path / sequence
        if protocol == "lvos":
            meta = json.loads((gt / "valid_meta.json").read_text())
            meta["videos"] = {sequence: meta["videos"][sequence]}
            (tmp_path / f"{sequence}.json").write_text(json.dumps(meta))
            one = ["--gt", str(gt), "--meta", str(tmp_path / f"{sequence}.json")]
        else:
            (alone / "gt").mkdir(parents=True)
            shutil.copytree(gt / "Annotations" / "480p" / sequence, alone / "gt" / sequence)
            one = ["--gt", str(alone / "gt")]
        assert main(["evaluate", *one, "--pred", str(pred), "--protocol", protocol,
                     "--csv", str(alone), "--jobs", "1"]) == 0
        assert _rows(alone, set_name) == {f"{sequence}_1": rows[f"{sequence}_1"]}


def test_rerun_scores_only_what_changed_or_failed(
    sets: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gt, pred = sets["davis"], tmp_path / "pred"
    shutil.copytree(sets["davis-pred"], pred)
    shutil.rmtree(pred / "boat")
    command = ["batch", "evaluate", "--gt", str(gt), "--pred", str(pred), "--csv",
               str(tmp_path / "csv"), "--workers", "1"]
    assert main(command) == 1
    err = capsys.readouterr().err
    missing = pred / "boat" / "00001.png"
    assert f"FAILED boat (2 attempts): {missing}: predicted mask is missing" in err
    assert "no results written" in err
    assert not (tmp_path / "csv" / "global_results-val.csv").exists()
    shutil.copytree(sets["davis-pred"] / "boat", pred / "boat")
    assert main(command) == 0
    assert "2 scored earlier (kept), 1 sequence(s) to score" in capsys.readouterr().err
    first = _files(tmp_path / "csv", "val")
    assert main(command) == 0
    assert "3 scored earlier (kept), 0 sequence(s) to score" in capsys.readouterr().err
    assert _files(tmp_path / "csv", "val") == first
    mask = pred / "bear" / "00004.png"
    write_label_map(mask, np.zeros_like(read_label_map(mask)))
    assert main(command) == 0
    assert "2 scored earlier (kept), 1 sequence(s) to score" in capsys.readouterr().err
    assert main(["evaluate", "--gt", str(gt), "--pred", str(pred), "--csv",
                 str(tmp_path / "fresh"), "--jobs", "1"]) == 0
    assert _files(tmp_path / "csv", "val") == _files(tmp_path / "fresh", "val")
    assert _files(tmp_path / "csv", "val") != first
