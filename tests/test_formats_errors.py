"""Forgiving reads, strict writes: odd mask modes load, bad files stop with their name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from annotator.errors import AnnotatorError
from annotator.formats import atomic, labelme, lvos, lvvis, youtube_vos
from annotator.formats.atomic import atomic_open, safe_join
from annotator.formats.convert import convert
from annotator.formats.describe import describe
from annotator.formats.json_files import read_json, write_json
from annotator.formats.masks import read_label_map, write_label_map
from annotator.formats.palette import davis_palette
from annotator.formats.reader import read_video
from annotator.video.dataset import open_dataset


def _dataset(root: Path, masks: dict[str, Image.Image], size: tuple[int, int] = (12, 16)) -> Path:
    frames = root / "JPEGImages" / "clip"
    frames.mkdir(parents=True)
    for name in ("00000", "00001", "00002"):
        Image.fromarray(np.zeros((*size, 3), np.uint8)).save(frames / f"{name}.jpg")
    (root / "Annotations" / "clip").mkdir(parents=True)
    for name, image in masks.items():
        image.save(root / "Annotations" / "clip" / f"{name}.png")
    return root


def test_every_mask_mode_reads_to_the_same_labels(tmp_path: Path, davis_root: Path) -> None:
    labels = np.zeros((12, 16), np.uint8)
    labels[2:6, 3:9] = 1
    labels[8:11, 10:15] = 2
    palette = davis_palette()
    binary = np.where(labels == 1, 255, 0).astype(np.uint8)
    p_image = Image.fromarray(labels, "P")
    p_image.putpalette(palette.ravel().tolist())
    masks = {
        "00000": p_image,
        "00001": Image.fromarray(palette[labels]),  # RGB in DAVIS colours
        "00002": Image.fromarray(np.stack([binary, np.full_like(binary, 255)], -1), "LA"),
    }
    root = _dataset(tmp_path / "ds", masks)
    video = read_video(open_dataset(root), "clip")
    assert np.array_equal(video.labels["00000"], labels)
    assert np.array_equal(video.labels["00001"], labels)
    assert np.array_equal(video.labels["00002"], (labels == 1).astype(np.uint8))
    Image.fromarray(binary, "L").save(tmp_path / "l.png")
    assert np.array_equal(read_label_map(tmp_path / "l.png"), (labels == 1).astype(np.uint8))
    real_la = read_label_map(davis_root / "Annotations/480p/bear/00077.png")  # the LA file
    assert set(np.unique(real_la)) == {0, 1} and real_la.shape == (480, 854)


def test_mask_of_the_wrong_size_names_the_file(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "ds", {"00001": Image.fromarray(np.zeros((12, 15), np.uint8))})
    with pytest.raises(AnnotatorError, match=r"00001\.png.*15x12.*16x12"):
        convert(root, tmp_path / "out", "lvos")


def test_unknown_colour_names_the_file_and_the_colour(tmp_path: Path) -> None:
    rgb = np.zeros((12, 16, 3), np.uint8)
    rgb[3, 4] = (10, 20, 30)
    root = _dataset(tmp_path / "ds", {"00002": Image.fromarray(rgb)})
    with pytest.raises(AnnotatorError, match=r"00002\.png.*unknown colour \(10, 20, 30\)"):
        convert(root, tmp_path / "out", "lvvis")


def test_mask_without_a_frame_is_refused(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "ds", {"00009": Image.fromarray(np.zeros((12, 16), np.uint8))})
    with pytest.raises(AnnotatorError, match=r"00009\.png.*no frame"):
        read_video(open_dataset(root), "clip")


def test_broken_json_files_name_themselves(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "ds", {})
    (root / "train_meta.json").write_text('{"videos": {"clip": ')
    with pytest.raises(AnnotatorError, match=r"train_meta\.json: not valid JSON.*line 1"):
        read_video(open_dataset(root), "clip")
    (root / "train_meta.json").write_text('{"videos": []}')
    with pytest.raises(AnnotatorError, match=r"train_meta\.json.*\"videos\" object"):
        read_video(open_dataset(root), "clip")
    for objects in ({"one": {}}, {"1": "cat"}):
        write_json(root / "train_meta.json", {"videos": {"clip": {"objects": objects}}})
        with pytest.raises(AnnotatorError, match=r"train_meta\.json: video 'clip': object"):
            read_video(open_dataset(root), "clip")
        with pytest.raises(AnnotatorError, match=r"train_meta\.json: video 'clip': object"):
            describe(root, quick=True)
    (root / "train_meta.json").unlink()
    (root / "Annotations" / "clip").rmdir()
    (root / "JPEGImages" / "clip" / "00001.json").write_text("{not json")
    with pytest.raises(AnnotatorError, match=r"00001\.json: not valid JSON"):
        convert(root, tmp_path / "out", "lvos")
    bad_instances = tmp_path / "instances.json"
    bad_instances.write_text(json.dumps({"videos": [{"id": 1}]}))
    with pytest.raises(AnnotatorError, match=r"instances\.json: bad video entry"):
        lvvis.read_instances(bad_instances)
    rle_size = {
        "videos": [{"id": 1, "file_names": ["v/0.jpg"], "height": 4, "width": 4}],
        "annotations": [
            {"id": 1, "video_id": 1, "segmentations": [{"size": [5, 4], "counts": "0"}]}
        ],
    }
    bad_instances.write_text(json.dumps(rle_size))
    video = lvvis.video_labels(lvvis.read_instances(bad_instances), "v")
    with pytest.raises(AnnotatorError, match=r"instances\.json: RLE size 4x5"):
        video.labels["0"]


def test_instances_size_that_differs_from_the_frames_names_the_file(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "ds", {})  # frames are 16x12
    files = [f"clip/{n}.jpg" for n in ("00000", "00001", "00002")]
    write_json(
        root / "train_instances.json",
        {"videos": [{"id": 1, "file_names": files, "height": 12, "width": 20}], "annotations": []},
    )
    dataset = open_dataset(root)
    assert dataset.layout == "lvvis"
    with pytest.raises(AnnotatorError, match=r"train_instances\.json.*20x12.*16x12"):
        read_video(dataset, "clip")


def test_labelme_size_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps({"shapes": [], "imageHeight": 10, "imageWidth": 20}))
    with pytest.raises(AnnotatorError, match=r"f\.json: image is 20x10.*30x10"):
        labelme.read_frame(path, (10, 30))


def test_names_from_dataset_files_cannot_escape(tmp_path: Path) -> None:
    for name in ("../../evil", "/etc/passwd", "a/../../../b", "", "x\\..\\y"):
        with pytest.raises(AnnotatorError):
            safe_join(tmp_path, "Annotations", name)
    assert safe_join(tmp_path, "Annotations", "ok") == (tmp_path / "Annotations/ok").resolve()
    instances = {
        "videos": [{"id": 1, "file_names": ["../../escape/0.jpg"], "height": 2, "width": 2}],
        "annotations": [],
    }
    path = tmp_path / "val_instances.json"
    path.write_text(json.dumps(instances))
    with pytest.raises(AnnotatorError, match="unsafe file name"):
        lvvis.read_instances(path)


def test_failed_write_leaves_the_old_file_intact(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "Annotations" / "00000.png"
    old = np.zeros((6, 8), np.uint8)
    old[1:3, 1:3] = 4
    write_label_map(target, old)
    meta = tmp_path / "train_meta.json"
    write_json(meta, {"videos": {"a": {"objects": {}}}})
    meta_bytes = meta.read_bytes()

    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space"):
        write_label_map(target, np.ones((6, 8), np.uint8))
    with pytest.raises(OSError, match="No space"):
        lvos.update_meta_files(tmp_path, "train", {"b": {"objects": {}}}, {})
    monkeypatch.undo()
    assert np.array_equal(read_label_map(target), old)
    assert meta.read_bytes() == meta_bytes
    with pytest.raises(RuntimeError), atomic_open(target, "wb") as handle:
        handle.write(b"half a png")
        raise RuntimeError("crash while writing")
    assert np.array_equal(read_label_map(target), old)
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_meta_file_that_is_not_ours_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "train_meta.json").write_text("[1, 2, 3]")
    with pytest.raises(AnnotatorError, match="not overwriting"):
        lvos.update_meta_files(tmp_path, "train", {"clip": {"objects": {}}}, {})
    assert read_json(tmp_path / "train_meta.json") == [1, 2, 3]
    (tmp_path / "meta.json").write_text('{"videos": [1]}')
    with pytest.raises(AnnotatorError, match=r"meta.json.*not overwriting|not overwriting"):
        youtube_vos.write_meta(tmp_path, {"clip": {"objects": {}}})
    assert read_json(tmp_path / "meta.json") == {"videos": [1]}


def test_youtube_vos_meta_keeps_the_other_videos(tmp_path: Path) -> None:
    write_json(tmp_path / "meta.json", {"videos": {"b": {"objects": {}}, "c": {"objects": {}}}})
    entry = {"objects": {"1": {"frames": ["00005", "00010"]}}}
    assert youtube_vos.write_meta(tmp_path, {"a": entry, "c": entry}) == tmp_path / "meta.json"
    videos = read_json(tmp_path / "meta.json")["videos"]
    assert list(videos) == ["a", "b", "c"]
    assert videos["a"] == videos["c"] == entry and videos["b"] == {"objects": {}}


def test_convert_refuses_to_write_over_its_input(tmp_path: Path, davis_root: Path) -> None:
    shutil.copytree(davis_root / "JPEGImages/480p/swing", tmp_path / "JPEGImages/swing")
    with pytest.raises(AnnotatorError, match="output folder is the input"):
        convert(tmp_path, tmp_path, "lvos")
    with pytest.raises(AnnotatorError, match="unknown output format"):
        convert(tmp_path, tmp_path / "x", "coco")


def test_meta_fields_we_do_not_write_survive_a_save(tmp_path: Path) -> None:
    old = {
        "videos": {
            "clip": {
                "attributes": ["occlusion", "fast motion"],
                "objects": {
                    "1": {
                        "category": "cat",
                        "note": "keep me",
                        "frame_range": {"start": "0", "end": "9", "frame_nums": 10},
                    },
                    "2": {"category": "gone"},
                },
            },
            "other": {"objects": {}},
        }
    }
    write_json(tmp_path / "train_meta.json", old)
    new = {
        "objects": {"1": {"frame_range": {"start": "2", "end": "5", "frame_nums": 4}}},
        "image_size": [12, 16],
    }
    lvos.update_meta_files(tmp_path, "train", {"clip": new}, {"clip": None})
    videos = read_json(tmp_path / "train_meta.json")["videos"]
    assert videos["other"] == {"objects": {}}
    assert videos["clip"] == {
        "attributes": ["occlusion", "fast motion"],
        "image_size": [12, 16],
        "objects": {
            "1": {"note": "keep me", "frame_range": {"start": "2", "end": "5", "frame_nums": 4}}
        },
    }


def test_convert_keeps_categories_and_captions_in_the_meta_files(tmp_path: Path) -> None:
    labels = np.zeros((12, 16), np.uint8)
    labels[2:6, 3:9] = 2
    root = _dataset(tmp_path / "ds", {})
    write_label_map(root / "Annotations" / "clip" / "00001.png", labels)
    objects = {"2": {"category": "cat"}}
    write_json(root / "train_meta.json", {"videos": {"clip": {"objects": objects}}})
    write_json(
        root / "train_expression_meta.json",
        {"videos": {"clip": {"expressions": {"0": {"exp": "a grey cat", "obj_id": "2"}}}}},
    )
    out = tmp_path / "out"
    write_json(out / "train_meta.json", {"videos": {"older": {"objects": {}}}})
    done = convert(root, out, "lvos")
    assert done.videos == ["clip"]
    assert done.notes == [
        "clip: object 2 (00000001..00000001) spans fewer than 3 sampled frames: the LVOS "
        "toolkit scores none of them (NaN, or it stops when frame_nums is 1)"
    ]
    meta = read_json(out / "train_meta.json")["videos"]
    assert meta["older"] == {"objects": {}}  # other videos of the split survive
    assert meta["clip"]["objects"] == {  # frames 00000.. become LVOS ids 00000000..
        "2": {
            "category": "cat",
            "frame_range": {"start": "00000001", "end": "00000001", "frame_nums": 1},
        }
    }
    expressions = read_json(out / "train_expression_meta.json")["videos"]["clip"]
    assert expressions["expressions"] == {"0": {"exp": "a grey cat", "obj_id": "2"}}
    assert expressions["frames"] == ["00000000", "00000001", "00000002"]
