"""What the writers refuse and what they leave: names that leave the folder, symlinked frames,
an earlier run's files, LV-VIS results from a model's masks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from annotator.errors import AnnotatorError
from annotator.formats import output_folders
from annotator.formats.convert import Options, convert
from annotator.formats.frame_ids import IdScheme
from annotator.formats.masks import read_label_map, write_label_map

REPO = Path(__file__).resolve().parents[1]


def _small_dataset(davis_root: Path, root: Path, sequence: str, frames: int) -> Path:
    """An LVOS root (DAVIS names) with the first `frames` frames and masks of a sequence."""
    for kind, suffix in (("JPEGImages", ".jpg"), ("Annotations", ".png")):
        target = root / kind / sequence
        target.mkdir(parents=True)
        for path in sorted((davis_root / kind / "480p" / sequence).glob(f"*{suffix}"))[:frames]:
            shutil.copyfile(path, target / path.name)
    return root


def test_split_names_cannot_leave_the_output_folder(tmp_path: Path, davis_root: Path) -> None:
    source = _small_dataset(davis_root, tmp_path / "src", "swing", 3)
    out = tmp_path / "a" / "b" / "out"
    for to in ("lvos", "davis", "lvvis"):
        with pytest.raises(AnnotatorError, match=r"split '\.\./\.\./x' is not a plain name"):
            convert(source, out, to, split="../../x")
    assert not out.exists() and not list(tmp_path.rglob("x_*"))
    result = subprocess.run(
        [sys.executable, "-m", "annotator.cli", "convert", str(source), str(out), "--to",
         "lvos", "--split", "../../x"],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1


def test_symlinked_frames_are_copied_as_files(tmp_path: Path, davis_root: Path) -> None:
    real = davis_root / "JPEGImages" / "480p" / "swing"
    frames = tmp_path / "clip"
    frames.mkdir()
    for path in sorted(real.glob("*.jpg"))[:3]:
        (frames / path.name).symlink_to(path)
    out = tmp_path / "out"
    convert(frames, out, "lvos")
    written = sorted((out / "JPEGImages" / "clip").iterdir())
    assert [p.name for p in written] == ["00000000.jpg", "00000001.jpg", "00000002.jpg"]
    for path, original in zip(written, sorted(real.glob("*.jpg"))[:3], strict=False):
        assert not path.is_symlink() and path.is_file()
        assert path.read_bytes() == original.read_bytes()
        assert not os.path.samefile(path, original)


def test_an_earlier_run_is_refused_then_replaced(tmp_path: Path, davis_root: Path) -> None:
    source = _small_dataset(davis_root, tmp_path / "src", "swing", 6)
    out = tmp_path / "out"
    convert(source, out, "lvos")
    for name in ("00003.png", "00004.png"):  # the source loses two masks
        (source / "Annotations" / "swing" / name).unlink()
    with pytest.raises(AnnotatorError, match=r"JPEGImages/swing: already holds 6 file\(s\)"):
        convert(source, out, "lvos")
    convert(source, out, "lvos", options=Options(replace=True))
    masks = sorted(p.name for p in (out / "Annotations" / "swing").iterdir())
    assert masks == ["00000000.png", "00000001.png", "00000002.png", "00000005.png"]
    assert len(list((out / "JPEGImages" / "swing").iterdir())) == 6
    labelme_out = tmp_path / "labelme"
    convert(source, labelme_out, "labelme")
    (source / "Annotations" / "swing" / "00005.png").unlink()
    convert(source, labelme_out, "labelme", options=Options(replace=True))
    jsons = sorted(p.name for p in (labelme_out / "JPEGImages" / "swing").glob("*.json"))
    assert jsons == ["00000.json", "00001.json", "00002.json"]  # no stale 00005.json
    folder = source / "Annotations" / "swing"
    with pytest.raises(AnnotatorError, match="a folder of the source dataset"):
        output_folders.prepare([folder], [folder], replace=True)
    assert len(list(folder.iterdir())) == 3


def test_lvvis_json_only_refers_to_the_source_frames(tmp_path: Path, davis_root: Path) -> None:
    source = _small_dataset(davis_root, tmp_path / "src", "swing", 4)
    out = tmp_path / "out"
    done = convert(source, out, "lvvis", options=Options(frames=False))
    assert done.files == [out / "train_instances.json"]
    assert [p.name for p in out.iterdir()] == ["train_instances.json"]
    video = json.loads(done.files[0].read_text())["videos"][0]
    assert video["file_names"] == [f"swing/0000{i}.jpg" for i in range(4)]
    assert all((source / "JPEGImages" / name).is_file() for name in video["file_names"])
    with pytest.raises(AnnotatorError, match="only lvvis can leave them out"):
        convert(source, tmp_path / "x", "lvos", options=Options(frames=False))


def test_lvvis_results_from_a_models_masks(tmp_path: Path, davis_root: Path) -> None:
    """A model's masks for two videos become a results file on the ground truth's video ids,
    listed frames and categories, with the model's scores."""
    truth = _small_dataset(davis_root, tmp_path / "truth", "swing", 5)
    _small_dataset(davis_root, truth, "bear", 5)
    for index in (1, 3):  # the ground truth is annotated on frames 0, 2, 4 only
        for sequence in ("swing", "bear"):
            (truth / "Annotations" / sequence / f"0000{index}.png").unlink()
    categories = tmp_path / "categories.json"
    categories.write_text(json.dumps([
        {"id": 1, "name": "person", "partition": 1}, {"id": 2, "name": "bear", "partition": 3}
    ]))
    (truth / "train_meta.json").write_text(json.dumps({"videos": {
        "swing": {"objects": {"1": {"category": "person"}}},
        "bear": {"objects": {"1": {"category": "bear"}}},
    }}))
    gt = tmp_path / "gt"
    convert(truth, gt, "lvvis", categories=categories, options=Options(frames=False))
    instances = json.loads((gt / "train_instances.json").read_text())
    assert instances["categories"][1] == {"id": 2, "name": "bear", "partition": 3}

    model = _small_dataset(davis_root, tmp_path / "model", "bear", 5)  # every frame predicted
    _small_dataset(davis_root, model, "swing", 5)
    shifted = np.roll(read_label_map(model / "Annotations/bear/00002.png"), 15, axis=1)
    write_label_map(model / "Annotations/bear/00002.png", shifted)
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps({"bear": {"1": 0.25}}))
    out = tmp_path / "results"
    result = subprocess.run(
        [sys.executable, "-m", "annotator.cli", "convert", str(model), str(out), "--to",
         "lvvis-results", "--instances", str(gt / "train_instances.json"), "--scores",
         str(scores)],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert f"wrote {out / 'results.json'}" in result.stdout
    results = json.loads((out / "results.json").read_text())
    ids = {Path(v["file_names"][0]).parent.name: v["id"] for v in instances["videos"]}
    by_video = {r["video_id"]: r for r in results}
    assert sorted(by_video) == sorted(ids.values()) and len(results) == 2
    bear, swing = by_video[ids["bear"]], by_video[ids["swing"]]
    assert set(bear) == {"video_id", "category_id", "segmentations", "score"}
    assert (bear["score"], bear["category_id"], swing["score"], swing["category_id"]) == (
        0.25, 2, 1.0, 1
    )
    assert len(bear["segmentations"]) == 3  # the ground truth lists frames 0, 2, 4
    rle = bear["segmentations"][1]
    decoded = mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode()})
    assert np.array_equal(decoded.astype(bool), shifted == 1)
    missing = tmp_path / "other.json"
    first = instances["videos"][0]
    missing.write_text(json.dumps({**instances, "videos": [first], "annotations": [
        a for a in instances["annotations"] if a["video_id"] == first["id"]
    ]}))
    with pytest.raises(AnnotatorError, match="is not in the ground-truth instances file"):
        convert(model, tmp_path / "r2", "lvvis-results", options=Options(reference=missing))


def test_convert_notes_what_the_lvos_toolkit_will_not_manage(
    tmp_path: Path, davis_root: Path
) -> None:
    source = _small_dataset(davis_root, tmp_path / "src", "swing", 12)
    for name in ("00003.png", "00004.png"):  # a sparse annotation
        (source / "Annotations" / "swing" / name).unlink()
    done = convert(source, tmp_path / "out", "lvos", split="valid",
                   options=Options(ids=IdScheme(1, 5)))
    assert done.notes == [
        "swing: object 1 (00000001..00000056): the LVOS toolkit opens 2 mask(s) that are not "
        "written (first 00000016.png)"
    ]
