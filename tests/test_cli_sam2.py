"""`--engine sam2 --weights FILE` in `segment`, `propagate` and `batch`: palette PNGs equal to
what the SAM 2.1 engine gives when called directly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sam2_weights import IMAGE_SIZE, prompt_sensitive_model, save_official

from annotator.cli import main
from annotator.engine.click_session import ClickSession
from annotator.engine.sam2_loader import SIZE_VARIABLE, load_sam2_checkpoint
from annotator.engine.segmenters import load_sam2_segmenter
from annotator.formats.masks import read_label_map
from annotator.video.opening import open_frames
from models.sam2.propagator import Sam2Propagator

FRAMES = 2
SIZE = (107, 60)


@pytest.fixture(autouse=True)
def small_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SIZE_VARIABLE, str(IMAGE_SIZE))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sam2")
    return save_official(prompt_sensitive_model(seed=0), folder / "sam2.1_hiera_tiny.pt")


@pytest.fixture(scope="module")
def dataset(davis_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DAVIS-layout root with the first frames of 'bear', made small, and its first mask."""
    root = tmp_path_factory.mktemp("davis")
    frames = root / "JPEGImages" / "480p" / "bear"
    masks = root / "Annotations" / "480p" / "bear"
    frames.mkdir(parents=True)
    masks.mkdir(parents=True)
    for index in range(FRAMES):
        source = davis_root / "JPEGImages" / "480p" / "bear" / f"{index:05d}.jpg"
        with Image.open(source) as image:
            image.resize(SIZE).save(frames / f"{index:05d}.jpg", quality=95)
    with Image.open(davis_root / "Annotations" / "480p" / "bear" / "00000.png") as mask:
        mask.resize(SIZE, Image.Resampling.NEAREST).save(masks / "00000.png")
    shutil.copy(masks / "00000.png", root / "first.png")
    return root


def _expected(checkpoint: Path, dataset: Path) -> dict[int, np.ndarray]:
    model, _ = load_sam2_checkpoint(checkpoint)
    first = read_label_map(dataset / "first.png")
    with open_frames(dataset / "JPEGImages" / "480p" / "bear") as source:
        frames = [source[index] for index in range(FRAMES)]
    engine = Sam2Propagator(model)
    return {f.index: f.labels for f in engine.propagate(frames, {0: first}, range(1, FRAMES))}


def test_propagate_and_batch_write_the_engines_masks(checkpoint: Path, dataset: Path,
                                                     tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    expected = _expected(checkpoint, dataset)
    assert any(labels.any() for labels in expected.values())
    out = tmp_path / "propagated"
    code = main(["propagate", str(dataset / "JPEGImages" / "480p" / "bear"),
                 "--masks", str(dataset / "Annotations" / "480p" / "bear"), "--out", str(out),
                 "--engine", "sam2", "--weights", str(checkpoint), "--device", "cpu",
                 "--direction", "forward"])
    assert code == 0
    err = capsys.readouterr().err
    assert "SAM 2.1 tiny (sam2.1_hiera_tiny.pt) on CPU" in err and "1/1 frames" in err
    for index, labels in expected.items():
        assert np.array_equal(read_label_map(out / f"{index:05d}.png"), labels)

    batch_out = tmp_path / "batch"
    code = main(["batch", "propagate", str(dataset), "--out", str(batch_out), "--engine", "sam2",
                 "--weights", str(checkpoint), "--device", "cpu", "--workers", "1",
                 "--direction", "forward"])
    assert code == 0
    names = json.loads((batch_out / "train_meta.json").read_text())["videos"]["bear"][
        "source_frames"]  # LVOS frame id -> DAVIS name
    assert sorted(names.values()) == [f"{index:05d}" for index in range(FRAMES)]
    for frame_id, name in names.items():
        written = read_label_map(batch_out / "Annotations" / "bear" / f"{frame_id}.png")
        assert np.array_equal(written, read_label_map(out / f"{name}.png"))


def test_segment_writes_the_engines_mask(checkpoint: Path, dataset: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    image = dataset / "JPEGImages" / "480p" / "bear" / "00000.jpg"
    out = tmp_path / "mask.png"
    code = main(["segment", str(image), "--point", "50,30", "--box", "20,10,90,55",
                 "--out", str(out), "--engine", "sam2", "--weights", str(checkpoint)])
    assert code == 0
    assert "SAM 2.1 tiny on CPU" in capsys.readouterr().out
    session = ClickSession(load_sam2_segmenter(checkpoint, "cpu"))
    with Image.open(image) as frame:
        session.set_frame(0, np.array(frame.convert("RGB")))
    session.set_box(20, 10, 90, 55)
    session.add_click(50, 30, True)
    assert session.mask is not None
    assert np.array_equal(read_label_map(out), session.mask.astype(np.uint8))


def test_a_wrong_file_for_sam2_is_a_one_line_error(dataset: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    wrong = tmp_path / "not_a_model.pt"
    wrong.write_bytes(b"PK\x03\x04 truncated")
    code = main(["propagate", str(dataset / "JPEGImages" / "480p" / "bear"),
                 "--masks", str(dataset / "Annotations" / "480p" / "bear"),
                 "--out", str(tmp_path / "out"), "--engine", "sam2", "--weights", str(wrong)])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(wrong) in err[0] and "truncated" in err[0]
