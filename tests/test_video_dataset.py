"""Dataset roots: the DAVIS, LVOS and LV-VIS layouts, bare frame folders and video files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import DEV_SEQUENCES
from PIL import Image

from annotator.errors import AnnotatorError
from annotator.video.dataset import open_dataset


def _frames(folder: Path, count: int, size: tuple[int, int] = (16, 24)) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.fromarray(np.full((*size, 3), i * 10, np.uint8)).save(folder / f"{i:05d}.jpg")


def test_davis_root_lists_every_sequence_with_masks(davis_root: Path) -> None:
    dataset = open_dataset(davis_root)
    assert dataset.layout == "davis"
    assert dataset.videos == list(DEV_SEQUENCES)
    with dataset.frames("soccerball") as frames:
        assert len(frames) == 48 and frames.size == (480, 854)
        assert frames[47].shape == (480, 854, 3)
        masks = dataset.mask_paths("soccerball")
        assert list(masks) == frames.names
    assert masks["00000"] == davis_root / "Annotations" / "480p" / "soccerball" / "00000.png"
    with pytest.raises(AnnotatorError, match="no video called 'nope'"):
        dataset.frames("nope")


def test_lvos_layout(tmp_path: Path) -> None:
    _frames(tmp_path / "JPEGImages" / "vid2", 3)
    _frames(tmp_path / "JPEGImages" / "vid10", 2)
    (tmp_path / "Annotations" / "vid2").mkdir(parents=True)
    Image.fromarray(np.zeros((16, 24), np.uint8)).save(tmp_path / "Annotations/vid2/00001.png")
    dataset = open_dataset(tmp_path)
    assert dataset.layout == "lvos"
    assert dataset.videos == ["vid2", "vid10"]
    assert list(dataset.mask_paths("vid2")) == ["00001"]
    assert dataset.mask_paths("vid10") == {}
    assert dataset.mask_dir("vid10") == tmp_path / "Annotations" / "vid10"


def test_lvvis_layouts(tmp_path: Path) -> None:
    flat = tmp_path / "flat"
    _frames(flat / "JPEGImages" / "00000", 2)
    (flat / "val_instances.json").write_text(json.dumps({"videos": []}))
    dataset = open_dataset(flat)
    assert (dataset.layout, dataset.split, dataset.videos) == ("lvvis", "val", ["00000"])
    assert dataset.instances_json == flat / "val_instances.json"

    released = tmp_path / "released"  # JPEGImages/<split>/<video>/ beside <split>_instances.json
    _frames(released / "JPEGImages" / "train" / "00007", 1)
    _frames(released / "JPEGImages" / "val" / "00001", 1)
    (released / "val_instances.json").write_text("{}")
    dataset = open_dataset(released)
    assert (dataset.layout, dataset.split, dataset.videos) == ("lvvis", "val", ["00001"])
    train = open_dataset(released, split="train")
    assert train.videos == ["00007"] and train.instances_json is None
    with pytest.raises(AnnotatorError, match="no split 'test'"):
        open_dataset(released, split="test")

    nested = tmp_path / "nested"  # <split>/JPEGImages/<video>/ with <split>/<split>_instances.json
    _frames(nested / "val" / "JPEGImages" / "00003", 1)
    (nested / "val" / "val_instances.json").write_text("{}")
    dataset = open_dataset(nested)
    assert (dataset.layout, dataset.root, dataset.videos) == ("lvvis", nested / "val", ["00003"])


def test_frame_folder_and_video_file(tmp_path: Path) -> None:
    _frames(tmp_path / "clip", 4)
    dataset = open_dataset(tmp_path / "clip")
    assert (dataset.layout, dataset.videos) == ("frames", ["clip"])
    assert dataset.mask_dir("clip") == tmp_path / "clip" / "Annotations" / "clip"
    with dataset.frames("clip") as frames:
        assert len(frames) == 4

    video = tmp_path / "movie.mp4"
    import av

    with av.open(str(video), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), i * 40, np.uint8), "rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    dataset = open_dataset(video)
    assert (dataset.layout, dataset.root, dataset.videos) == ("video", tmp_path, ["movie"])
    with dataset.frames("movie") as frames:
        assert len(frames) == 5


def test_not_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(AnnotatorError, match="not a dataset"):
        open_dataset(tmp_path)
    with pytest.raises(AnnotatorError, match="no such file"):
        open_dataset(tmp_path / "missing")


def test_a_video_folder_inside_a_dataset_opens_the_dataset(
    davis_root: Path, tmp_path: Path
) -> None:
    dataset = open_dataset(davis_root / "JPEGImages" / "480p" / "swing")
    assert (dataset.layout, dataset.root, dataset.selected) == ("davis", davis_root, "swing")
    assert dataset.mask_dir("swing") == davis_root / "Annotations" / "480p" / "swing"
    _frames(tmp_path / "lvos" / "JPEGImages" / "a", 1)
    _frames(tmp_path / "lvos" / "JPEGImages" / "b", 1)
    dataset = open_dataset(tmp_path / "lvos" / "JPEGImages" / "b")
    assert (dataset.layout, dataset.videos, dataset.selected) == ("lvos", ["a", "b"], "b")
    _frames(tmp_path / "vis" / "JPEGImages" / "train" / "00007", 1)
    _frames(tmp_path / "vis" / "JPEGImages" / "val" / "00001", 1)
    (tmp_path / "vis" / "train_instances.json").write_text("{}")
    dataset = open_dataset(tmp_path / "vis" / "JPEGImages" / "train" / "00007")
    assert (dataset.layout, dataset.split, dataset.selected) == ("lvvis", "train", "00007")
    assert dataset.instances_json == tmp_path / "vis" / "train_instances.json"


def test_mask_files_come_in_natural_order_without_hidden_ones(tmp_path):
    from annotator.video.dataset import files_by_stem, png_files

    for name in ("10.png", "2.PNG", "1.png", ".3.png", "4.jpg", "5.json"):
        (tmp_path / name).write_bytes(b"")
    assert list(png_files(tmp_path)) == ["1", "2", "10"]
    assert list(files_by_stem(tmp_path, ".json")) == ["5"]
    assert png_files(tmp_path / "missing") == {}
