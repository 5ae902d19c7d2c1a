"""`vos-annotator propagate` end to end: fixture clip through the CLI, masks read back."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_stcn_checkpoint import (  # noqa: F401 (fixtures)
    MAX_LABEL_CHANGE,
    fixture_clip,
    stcn_checkpoint,
)

from annotator.cli import main
from annotator.formats.masks import read_label_map, write_label_map


@pytest.fixture
def clip_folders(tmp_path, fixture_clip):  # noqa: F811
    frames_dir, masks_dir = tmp_path / "frames", tmp_path / "masks"
    frames_dir.mkdir()
    masks_dir.mkdir()
    for index, frame in enumerate(fixture_clip["frames"]):
        Image.fromarray(frame).save(frames_dir / f"{index:05d}.png")
    write_label_map(masks_dir / "00000.png", fixture_clip["first_mask"])
    return frames_dir, masks_dir, tmp_path / "out"


def test_fixture_clip_through_the_cli(clip_folders, fixture_clip, stcn_checkpoint, capsys):  # noqa: F811
    frames_dir, masks_dir, out_dir = clip_folders
    code = main(
        [
            "propagate",
            str(frames_dir),
            "--masks",
            str(masks_dir),
            "--out",
            str(out_dir),
            "--engine",
            "stcn",
            "--weights",
            str(stcn_checkpoint),
            "--device",
            "cpu",
            "--memory-frames",
            "100",
            "--direction",
            "both",
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "STCN (stcn_rule_weights.pth) on CPU" in err
    assert "11/11 frames" in err
    written = sorted(p.name for p in out_dir.iterdir())
    assert written == [f"{i:05d}.png" for i in range(12)]
    first = read_label_map(out_dir / "00000.png", expected_size=(232, 420))
    assert np.array_equal(first, fixture_clip["first_mask"])
    for index in range(1, 12):
        labels = read_label_map(out_dir / f"{index:05d}.png", expected_size=(232, 420))
        changed = np.mean(labels != fixture_clip["labels"][index])
        assert changed < MAX_LABEL_CHANGE, f"frame {index}: {changed:.4%} of labels differ"


def test_mask_named_after_no_frame_is_refused(clip_folders, fixture_clip, capsys):  # noqa: F811
    frames_dir, masks_dir, out_dir = clip_folders
    write_label_map(masks_dir / "frame_99.png", fixture_clip["first_mask"])
    code = main(["propagate", str(frames_dir), "--masks", str(masks_dir), "--out", str(out_dir)])
    assert code == 2
    err = capsys.readouterr().err
    assert "frame_99.png" in err and "named after no frame" in err
    assert not out_dir.exists()


def test_mask_of_the_wrong_size_is_refused(clip_folders, capsys):
    frames_dir, masks_dir, out_dir = clip_folders
    write_label_map(masks_dir / "00003.png", np.zeros((100, 100), np.uint8))
    code = main(["propagate", str(frames_dir), "--masks", str(masks_dir), "--out", str(out_dir)])
    assert code == 2
    err = capsys.readouterr().err
    assert "00003.png" in err and "100x100" in err


def test_missing_stcn_weights_is_a_clear_error(clip_folders, tmp_path, capsys):
    frames_dir, masks_dir, out_dir = clip_folders
    code = main(
        [
            "propagate",
            str(frames_dir),
            "--masks",
            str(masks_dir),
            "--out",
            str(out_dir),
            "--engine",
            "stcn",
            "--weights",
            str(tmp_path / "nowhere.pth"),
        ]
    )
    assert code == 2
    assert "nowhere.pth" in capsys.readouterr().err


def test_engine_choice_falls_back_to_classic_without_weights(tmp_path, monkeypatch):
    from annotator.engine.propagators import make_propagator
    from annotator.errors import AnnotatorError

    monkeypatch.setenv("VOS_ANNOTATOR_WEIGHTS", str(tmp_path / "empty"))
    propagator, info = make_propagator("auto")
    description = info.line
    assert propagator.name == "classic"
    assert "stcn.pth" in description and "--weights" in description
    with pytest.raises(AnnotatorError, match="no STCN checkpoint"):
        make_propagator("stcn")
    with pytest.raises(AnnotatorError, match="unknown propagation engine"):
        make_propagator("magic")


def test_registered_stcn_weights_are_found_by_name(tmp_path, monkeypatch, stcn_checkpoint):  # noqa: F811
    from annotator.engine.propagators import make_propagator

    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "stcn.pth").symlink_to(stcn_checkpoint)
    monkeypatch.setenv("VOS_ANNOTATOR_WEIGHTS", str(folder))
    propagator, info = make_propagator("auto", device="cpu", memory_frames=7)
    description = info.line
    assert propagator.name == "STCN"
    assert "memory budget 7 frames" in description


def test_objects_option_propagates_only_those_objects(
    davis_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--objects 1` on a real dev sequence: the bear (object 1) is carried to every frame;
    the rock (object 2) of the keyframe is not, and a mask already in --out keeps its rock
    pixels exactly."""
    frames_dir, masks_dir, out_dir = tmp_path / "frames", tmp_path / "masks", tmp_path / "out"
    frames_dir.mkdir()
    for path in sorted((davis_root / "JPEGImages/480p/bear").glob("*.jpg"))[:5]:
        shutil.copy(path, frames_dir / path.name)
    truth = [read_label_map(davis_root / f"Annotations/480p/bear/{i:05d}.png") == 1
             for i in range(5)]
    keyframe = truth[0].astype(np.uint8)
    keyframe[400:470, 20:200] = 2  # a rock, far from the bear
    write_label_map(masks_dir / "00000.png", keyframe)
    earlier = np.zeros_like(keyframe)
    earlier[10:60, 700:840] = 2  # frame 3 already holds a rock elsewhere
    write_label_map(out_dir / "00003.png", earlier)
    code = main(["propagate", str(frames_dir), "--masks", str(masks_dir), "--out", str(out_dir),
                 "--engine", "classic", "--objects", "1", "--direction", "forward"])
    assert code == 0, capsys.readouterr().err
    assert np.array_equal(read_label_map(out_dir / "00000.png"), keyframe)
    for index in range(1, 5):
        labels = read_label_map(out_dir / f"{index:05d}.png")
        bear = labels == 1
        assert bear.sum() > 0
        assert (bear & truth[index]).sum() / (bear | truth[index]).sum() > 0.7
        rock = labels == 2
        assert np.array_equal(rock, earlier == 2 if index == 3 else np.zeros_like(rock))


def test_objects_option_names_objects_no_keyframe_holds(
    clip_folders: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    frames_dir, masks_dir, out_dir = clip_folders
    code = main(["propagate", str(frames_dir), "--masks", str(masks_dir), "--out", str(out_dir),
                 "--engine", "classic", "--objects", "77"])
    assert code == 2
    assert "no keyframe mask holds object 77" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["propagate", str(frames_dir), "--masks", str(masks_dir), "--out", str(out_dir),
              "--objects", "1,x"])
    assert "expected object ids like 1,3" in capsys.readouterr().err
    assert not out_dir.exists()
