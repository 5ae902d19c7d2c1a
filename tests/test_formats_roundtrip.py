"""Round trips through every format on the real DAVIS dev sequences, compared pixel for pixel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import DEV_SEQUENCES
from pycocotools import mask as mask_utils

from annotator.commands.convert import convert
from annotator.errors import AnnotatorError
from annotator.formats import labelme, lvvis, youtube_vos
from annotator.formats.categories import CategoryTable, read_categories
from annotator.formats.frame_ranges import RangeTracker
from annotator.formats.masks import read_label_map
from annotator.formats.video_labels import ObjectMeta, VideoLabels
from annotator.video.dataset import open_dataset


def _davis_masks(davis_root: Path, sequence: str) -> dict[str, np.ndarray]:
    folder = davis_root / "Annotations" / "480p" / sequence
    return {p.stem: read_label_map(p) for p in sorted(folder.glob("*.png"))}


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory, davis_root: Path) -> dict[str, Path]:
    """DAVIS -> LVOS -> LV-VIS -> LVOS, every dev sequence."""
    base = tmp_path_factory.mktemp("chain")
    paths = {"lvos": base / "lvos", "lvvis": base / "lvvis", "back": base / "back"}
    convert(davis_root, paths["lvos"], "lvos", split="valid")
    convert(paths["lvos"], paths["lvvis"], "lvvis", split="valid")
    convert(paths["lvvis"], paths["back"], "lvos", split="valid")
    return paths


def test_davis_lvos_lvvis_lvos_is_identical_on_every_frame(
    chain: dict[str, Path], davis_root: Path
) -> None:
    back = open_dataset(chain["back"])
    assert back.layout == "lvos" and back.videos == list(DEV_SEQUENCES)
    frames_checked = 0
    for sequence in DEV_SEQUENCES:
        original = _davis_masks(davis_root, sequence)
        folder = chain["back"] / "Annotations" / sequence
        assert sorted(p.stem for p in folder.glob("*.png")) == sorted(original), sequence
        for name, truth in original.items():
            labels = read_label_map(folder / f"{name}.png")
            assert np.array_equal(labels, truth), f"{sequence}/{name}"
            frames_checked += 1
    total = sum(
        len(list((davis_root / "JPEGImages/480p" / s).glob("*.jpg"))) for s in DEV_SEQUENCES
    )
    assert frames_checked == total > 700  # every frame of every sequence has a mask


def test_written_pngs_are_8bit_palette_with_256_entries(chain: dict[str, Path]) -> None:
    from PIL import Image

    with Image.open(chain["back"] / "Annotations" / "bear" / "00077.png") as image:
        assert image.mode == "P"
        assert len(image.getpalette()) == 256 * 3
        assert image.getpalette()[3:6] == [128, 0, 0]


def test_meta_frame_ranges_match_the_masks(chain: dict[str, Path]) -> None:
    for stage in ("back",):
        meta = json.loads((chain[stage] / "valid_meta.json").read_text())["videos"]
        assert sorted(meta) == sorted(DEV_SEQUENCES)
        for sequence, entry in meta.items():
            folder = chain[stage] / "Annotations" / sequence
            names = sorted(p.stem for p in folder.glob("*.png"))
            present = {
                n: set(np.unique(read_label_map(folder / f"{n}.png")).tolist()) - {0, 255}
                for n in names
            }
            ids = sorted(set().union(*present.values()))
            assert sorted(int(k) for k in entry["objects"]) == ids
            for object_id in ids:
                with_object = [n for n in names if object_id in present[n]]
                frame_range = entry["objects"][str(object_id)]["frame_range"]
                assert frame_range["start"] == with_object[0]
                assert frame_range["end"] == with_object[-1]
                inside = [n for n in names if with_object[0] <= n <= with_object[-1]]
                assert frame_range["frame_nums"] == len(inside)
            assert entry["image_size"] == [480, 854]


def test_frame_ranges_count_only_annotated_frames_inside() -> None:
    names = [f"{i * 6:08d}" for i in range(20)]  # LVOS-style numbers, sparse annotations
    tracker = RangeTracker(names)
    for index, ids in ((1, [2]), (3, [1, 2]), (4, []), (9, [1]), (12, [2]), (15, [])):
        tracker.add(names[index], ids)
    assert tracker.object_ids == [1, 2]
    assert tracker.frame_range(1) == {"start": names[3], "end": names[9], "frame_nums": 3}
    assert tracker.frame_range(2) == {"start": names[1], "end": names[12], "frame_nums": 5}
    with pytest.raises(ValueError, match="later frame"):
        tracker.add(names[10], [1])


def test_lvvis_instances_are_youtube_vis_2019(chain: dict[str, Path], davis_root: Path) -> None:
    data = json.loads((chain["lvvis"] / "valid_instances.json").read_text())
    assert [c["name"] for c in data["categories"]] == ["object"]
    videos = {v["id"]: v for v in data["videos"]}
    bear = next(v for v in videos.values() if v["file_names"][0].startswith("bear/"))
    assert (bear["length"], bear["height"], bear["width"]) == (82, 480, 854)
    assert bear["file_names"][:2] == ["bear/00000.jpg", "bear/00001.jpg"]
    annotation = next(a for a in data["annotations"] if a["video_id"] == bear["id"])
    assert len(annotation["segmentations"]) == 82 and annotation["iscrowd"] == 0
    rle = annotation["segmentations"][77]
    mask = mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode()})
    truth = read_label_map(davis_root / "Annotations/480p/bear/00077.png") == 1
    assert np.array_equal(mask.astype(bool), truth)
    assert annotation["areas"][77] == int(truth.sum())
    ys, xs = np.nonzero(truth)
    assert annotation["bboxes"][77] == [
        xs.min(),
        ys.min(),
        xs.max() - xs.min() + 1,
        ys.max() - ys.min() + 1,
    ]
    assert (chain["lvvis"] / "JPEGImages" / "bear" / "00081.jpg").is_file()


def test_labelme_round_trip_is_exact_on_real_masks(
    tmp_path: Path, davis_root: Path, chain: dict[str, Path]
) -> None:
    checked = 0
    for sequence in DEV_SEQUENCES:
        for name, truth in list(_davis_masks(davis_root, sequence).items())[::8]:
            document = labelme.frame_document(truth, {1: ObjectMeta(1, "animal")}, f"{name}.jpg")
            assert document["imageData"] is None
            assert all(s["group_id"] == 1 and s["label"] == "animal" for s in document["shapes"])
            assert all(s["shape_type"] == "polygon" for s in document["shapes"])
            path = tmp_path / f"{sequence}_{name}.json"
            path.write_text(json.dumps(document))
            labels, objects = labelme.read_frame(path, truth.shape)
            assert np.array_equal(labels, truth), f"{sequence}/{name}"
            assert objects == {1: ObjectMeta(1, "animal")}
            checked += 1
    assert checked > 90
    out = tmp_path / "labelme"
    convert(chain["lvos"], out, "labelme", videos=["swing"])
    assert (out / "JPEGImages" / "swing" / "00010.json").is_file()
    back = tmp_path / "back"
    convert(out, back, "lvos", videos=["swing"])
    for name, truth in _davis_masks(davis_root, "swing").items():
        assert np.array_equal(read_label_map(back / "Annotations/swing" / f"{name}.png"), truth)


def test_labelme_holes_islands_and_several_objects(tmp_path: Path) -> None:
    labels = np.zeros((60, 80), np.uint8)
    labels[5:55, 5:45] = 1
    labels[15:45, 15:35] = 0  # a hole
    labels[25:35, 22:28] = 1  # an island inside the hole
    labels[10:20, 50:75] = 2
    labels[40:50, 50:75] = 2  # one object in two pieces
    labels[12, 60] = 0  # a one-pixel hole
    labels[58, 79] = 3  # a one-pixel object
    document = labelme.frame_document(labels, {}, "x.jpg")
    assert any(s["description"] == labelme.HOLE for s in document["shapes"])
    path = tmp_path / "frame.json"
    path.write_text(json.dumps(document))
    back, objects = labelme.read_frame(path)
    assert np.array_equal(back, labels)
    assert set(objects) == {1, 2, 3}


def test_labelme_shapes_made_by_people(tmp_path: Path) -> None:
    document = {
        "shapes": [
            {"label": "dog", "points": [[2, 2], [11, 2], [11, 9], [2, 9]], "shape_type": "polygon"},
            {"label": "cat", "points": [[20, 20], [29, 25]], "shape_type": "rectangle"},
            {"label": "dog", "points": [[40, 40], [44, 40]], "shape_type": "circle"},
            {"label": "line", "points": [[0, 0], [5, 5]], "shape_type": "line"},
        ],
        "imageHeight": 50,
        "imageWidth": 60,
        "imagePath": "a.jpg",
        "imageData": None,
    }
    path = tmp_path / "a.json"
    path.write_text(json.dumps(document))
    ids: dict[str, int] = {}
    labels, objects = labelme.read_frame(path, (50, 60), ids)
    assert ids == {"dog": 1, "cat": 2}
    assert (labels[2:10, 2:12] == 1).all() and (labels[20:26, 20:30] == 2).all()
    assert labels[40, 40] == 1 and (labels == 1).sum() == 80 + len(
        np.argwhere((np.mgrid[0:50, 0:60][0] - 40) ** 2 + (np.mgrid[0:50, 0:60][1] - 40) ** 2 <= 16)
    )
    assert objects[2].category == "cat"


def test_annotations_convert_keeps_first_appearances_only(tmp_path: Path) -> None:
    frames = [f"{i:05d}" for i in range(10)]
    maps = {}
    for i, name in enumerate(frames):
        labels = np.zeros((20, 30), np.uint8)
        labels[0:5, 0:5] = 1
        if i >= 3:
            labels[10:15, 0:5] = 2
        if i >= 7:
            labels[10:15, 20:25] = 3
            labels[0:2, 25:30] = 255
        maps[name] = labels
    video = VideoLabels("clip", frames, 20, 30, maps, {2: ObjectMeta(2, "dog")})
    entry = youtube_vos.write_video(tmp_path, video)
    folder = tmp_path / "Annotations_convert" / "clip"
    assert sorted(p.stem for p in folder.glob("*.png")) == ["00000", "00003", "00007"]
    assert set(np.unique(read_label_map(folder / "00003.png"))) == {0, 2}
    assert set(np.unique(read_label_map(folder / "00007.png"))) == {0, 3}
    assert entry["objects"]["2"] == {"category": "dog", "frames": frames[3:]}


def test_lvvis_reads_uncompressed_rle_and_polygons(tmp_path: Path) -> None:
    square = np.zeros((20, 30), np.uint8)
    square[4:10, 6:16] = 1
    flat = square.ravel(order="F")
    changes = np.flatnonzero(np.diff(np.concatenate([[0], flat, [2]])))  # run boundaries
    counts = np.diff(np.concatenate([[0], changes])).tolist()
    uncompressed = {"size": [20, 30], "counts": counts}
    polygon = [[20.0, 2.0, 27.0, 2.0, 27.0, 8.0, 20.0, 8.0]]
    document = {
        "videos": [
            {"id": 1, "file_names": ["v/0.jpg", "v/1.jpg"], "height": 20, "width": 30, "length": 2}
        ],
        "annotations": [
            {"id": 1, "video_id": 1, "category_id": 1, "segmentations": [uncompressed, None]},
            {"id": 2, "video_id": 1, "category_id": 2, "segmentations": [None, polygon]},
        ],
        "categories": [{"id": 1, "name": "box", "partition": 2}, {"id": 2, "name": "kite"}],
    }
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(document))
    video = lvvis.video_labels(lvvis.read_instances(path), "v")
    assert np.array_equal(video.labels["0"], square)
    kite = video.labels["1"] == 2
    assert kite[2:8, 20:27].all() and kite.sum() == 7 * 6  # pycocotools' polygon rasterisation
    assert video.objects[1].category == "box" and video.objects[2].category == "kite"


def test_results_json_and_categories_file(tmp_path: Path) -> None:
    categories = tmp_path / "categories.json"
    categories.write_text(
        json.dumps(
            [{"id": 7, "name": "dog", "partition": 1}, {"id": 9, "name": "cat", "partition": 3}]
        )
    )
    table = read_categories(categories)
    labels = np.zeros((10, 12), np.uint8)
    labels[1:4, 1:4] = 1
    labels[6:9, 6:9] = 2
    video = VideoLabels(
        "v", ["0"], 10, 12, {"0": labels}, {1: ObjectMeta(1, "cat"), 2: ObjectMeta(2, "dog")}
    )
    instances = lvvis.build_instances([video], table)
    assert [a["category_id"] for a in instances["annotations"]] == [9, 7]
    assert instances["categories"][0] == {"id": 7, "name": "dog", "partition": 1}
    results = tmp_path / "results.json"
    lvvis.write_results(results, instances, {1: 0.9})
    entries = lvvis.read_results(results)
    assert [(e["video_id"], e["score"], e["category_id"]) for e in entries] == [
        (1, 0.9, 9),
        (1, 1.0, 7),
    ]
    plain = tmp_path / "names.txt"
    plain.write_text("# animals\ndog\ncat\n\n")
    assert read_categories(plain).id_for("cat") == 2
    with pytest.raises(AnnotatorError, match="'bird' is not in the categories file"):
        read_categories(plain).id_for("bird")
    growing = CategoryTable()
    assert [growing.id_for(n) for n in ("b", "a", "", "b")] == [1, 2, 3, 1]
    assert growing.to_json()[2] == {"id": 3, "name": "object"}
