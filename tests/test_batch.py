"""Batch propagation over a dataset: local worker processes and Ray give the sequential result."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from annotator.cli import main
from annotator.engine.dataset_propagation import PropagationJob, propagate_dataset_video
from annotator.formats.masks import read_label_map
from annotator.quality.metrics import jaccard

SEQUENCES = ("boat", "mallard-water")
FRAMES = 8


@pytest.fixture(scope="module")
def small_davis(davis_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DAVIS-layout root with the first frames of two dev sequences."""
    root = tmp_path_factory.mktemp("davis")
    for sequence in SEQUENCES:
        for kind, suffix in (("JPEGImages", ".jpg"), ("Annotations", ".png")):
            target = root / kind / "480p" / sequence
            target.mkdir(parents=True)
            for index in range(FRAMES):
                name = f"{index:05d}{suffix}"
                shutil.copy(davis_root / kind / "480p" / sequence / name, target / name)
    return root


def _read_all(folder: Path) -> dict[str, np.ndarray]:
    return {p.stem: read_label_map(p) for p in sorted(folder.glob("*.png"))}


@pytest.fixture(scope="module")
def sequential(small_davis: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The masks one job per video gives in this process, one after the other."""
    out = tmp_path_factory.mktemp("sequential")
    results = {}
    for sequence in SEQUENCES:
        job = PropagationJob(str(small_davis), sequence, str(out), engine="classic")
        outcome = propagate_dataset_video(job)
        assert outcome.error is None and outcome.frames_written == FRAMES
        results[sequence] = _read_all(out / sequence)
    return results


def test_sequential_job_tracks_the_object(small_davis: Path, sequential: dict) -> None:
    for sequence, masks in sequential.items():
        assert len(masks) == FRAMES
        truth = {
            name: read_label_map(small_davis / "Annotations" / "480p" / sequence / f"{name}.png")
            for name in masks
        }
        assert np.array_equal(masks["00000"], truth["00000"])
        scores = [jaccard(truth[n] == 1, masks[n] == 1) for n in masks if n != "00000"]
        assert np.mean(scores) > 0.7, (sequence, scores)


@pytest.mark.parametrize("backend", [["--workers", "2"], ["--ray"]], ids=["processes", "ray"])
def test_batch_matches_sequential(
    backend: list[str], small_davis: Path, sequential: dict, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    out = tmp_path / "out"
    code = main(["batch", str(small_davis), "--out", str(out), "--engine", "classic", *backend])
    assert code == 0
    for sequence in SEQUENCES:
        masks = _read_all(out / sequence)
        assert masks.keys() == sequential[sequence].keys()
        for name, labels in masks.items():
            assert np.array_equal(labels, sequential[sequence][name]), (sequence, name)


def test_one_bad_video_does_not_stop_the_others(
    small_davis: Path, sequential: dict, tmp_path: Path, capsys
) -> None:
    root = tmp_path / "davis"
    shutil.copytree(small_davis, root)
    broken = root / "Annotations" / "480p" / "boat" / "00000.png"
    Image.new("L", (100, 50)).save(broken)
    out = tmp_path / "out"
    code = main(["batch", str(root), "--out", str(out), "--engine", "classic", "--workers", "1"])
    assert code == 1
    assert str(broken) in capsys.readouterr().err
    assert not (out / "boat").exists()
    masks = _read_all(out / "mallard-water")
    assert masks.keys() == sequential["mallard-water"].keys()
    assert all(np.array_equal(masks[n], sequential["mallard-water"][n]) for n in masks)
