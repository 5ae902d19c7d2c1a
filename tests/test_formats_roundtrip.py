"""Round trips through every format on the real DAVIS dev sequences, compared pixel for pixel."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import DEV_SEQUENCES
from pycocotools import mask as mask_utils

from annotator.errors import AnnotatorError
from annotator.formats import lvvis, youtube_vos
from annotator.formats.categories import CategoryTable, read_categories
from annotator.formats.convert import Options, convert
from annotator.formats.frame_ids import IdScheme
from annotator.formats.frame_ranges import RangeTracker
from annotator.formats.masks import read_label_map
from annotator.formats.video_labels import ObjectMeta, VideoLabels
from annotator.video.dataset import open_dataset


def _davis_masks(davis_root: Path, sequence: str) -> dict[str, np.ndarray]:
    folder = davis_root / "Annotations" / "480p" / sequence
    return {p.stem: read_label_map(p) for p in sorted(folder.glob("*.png"))}


def _lvos_id(index: int) -> str:
    """LVOS's own frame id of the index-th stored frame: first id 1, step 5, 8 digits."""
    return f"{1 + 5 * index:08d}"


def make_native_lvos(davis_root: Path, root: Path, sequences: tuple[str, ...]) -> Path:
    """An LVOS root as LVOS ships it (ids 00000001, 00000006, ...), built here by copying the
    DAVIS files under those names; no meta file."""
    for sequence in sequences:
        for kind, suffix in (("JPEGImages", ".jpg"), ("Annotations", ".png")):
            source = sorted((davis_root / kind / "480p" / sequence).glob(f"*{suffix}"))
            target = root / kind / sequence
            target.mkdir(parents=True)
            for index, path in enumerate(source):
                shutil.copyfile(path, target / f"{_lvos_id(index)}{suffix}")
    return root


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory, davis_root: Path) -> dict[str, Path]:
    """LVOS (8-digit ids, step 5) -> DAVIS -> LV-VIS -> LVOS, every dev sequence."""
    base = tmp_path_factory.mktemp("chain")
    paths = {"native": base / "native", "davis": base / "davis", "lvvis": base / "lvvis"}
    paths["back"] = base / "back"
    make_native_lvos(davis_root, paths["native"], DEV_SEQUENCES)
    convert(paths["native"], paths["davis"], "davis", split="val")
    convert(paths["davis"], paths["lvvis"], "lvvis")
    convert(paths["lvvis"], paths["back"], "lvos")
    return paths


def test_lvos_davis_lvvis_lvos_is_identical_on_every_frame(
    chain: dict[str, Path], davis_root: Path
) -> None:
    back = open_dataset(chain["back"])
    assert back.layout == "lvos" and back.videos == list(DEV_SEQUENCES)
    frames_checked = 0
    for sequence in DEV_SEQUENCES:
        for kind in ("JPEGImages", "Annotations"):
            names = sorted(p.name for p in (chain["back"] / kind / sequence).iterdir())
            assert names == sorted(p.name for p in (chain["native"] / kind / sequence).iterdir())
        original = _davis_masks(davis_root, sequence)
        folder = chain["back"] / "Annotations" / sequence
        for index, truth in enumerate(original.values()):
            labels = read_label_map(folder / f"{_lvos_id(index)}.png")
            assert np.array_equal(labels, truth), f"{sequence}/{index}"
            frames_checked += 1
    total = sum(
        len(list((davis_root / "JPEGImages/480p" / s).glob("*.jpg"))) for s in DEV_SEQUENCES
    )
    assert frames_checked == total > 700  # every frame of every sequence has a mask
    meta = json.loads((chain["back"] / "train_meta.json").read_text())["videos"]
    assert all("source_frames" not in entry for entry in meta.values())  # nothing renamed


def test_written_pngs_are_8bit_palette_with_256_entries(chain: dict[str, Path]) -> None:
    from PIL import Image

    with Image.open(chain["back"] / "Annotations" / "bear" / f"{_lvos_id(77)}.png") as image:
        assert image.mode == "P"
        assert len(image.getpalette()) == 256 * 3
        assert image.getpalette()[3:6] == [128, 0, 0]


def test_meta_frame_ranges_match_the_masks(chain: dict[str, Path]) -> None:
    """Ranges counted here from the masks: first and last frame with the object, and the
    number of stored frames from one to the other (what the LVOS toolkit walks at step 5)."""
    for stage, meta_name in (("back", "train_meta.json"), ("davis", "val_meta.json")):
        meta = json.loads((chain[stage] / meta_name).read_text())["videos"]
        assert sorted(meta) == sorted(DEV_SEQUENCES)
        for sequence, entry in meta.items():
            folder = chain[stage] / "Annotations" / ("480p" if stage == "davis" else "") / sequence
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
                stored = names.index(with_object[-1]) - names.index(with_object[0]) + 1
                assert frame_range["frame_nums"] == stored
            assert entry["image_size"] == [480, 854]


def test_davis_output_lists_its_sequences(chain: dict[str, Path], davis_root: Path) -> None:
    listed = (chain["davis"] / "ImageSets/2017/val.txt").read_text().splitlines()
    assert listed == sorted(DEV_SEQUENCES)
    lines = (chain["davis"] / "ImageSets/480p/val.txt").read_text().splitlines()
    bear = [line for line in lines if "/bear/" in line]
    assert len(bear) == 82 and len(lines) == sum(
        len(list((davis_root / "Annotations/480p" / s).glob("*.png"))) for s in DEV_SEQUENCES
    )
    first = _lvos_id(0)
    assert bear[0] == f"/JPEGImages/480p/bear/{first}.jpg /Annotations/480p/bear/{first}.png"
    for line in lines[:: len(lines) // 7]:  # every line names files that are there
        image, mask = line.split()
        assert (chain["davis"] / image.lstrip("/")).is_file()
        assert (chain["davis"] / mask.lstrip("/")).is_file()


def test_davis_to_lvos_renames_and_a_round_trip_restores_the_names(
    tmp_path: Path, davis_root: Path
) -> None:
    videos = ["swing", "soccerball"]
    lvos_root = tmp_path / "lvos"
    ids = Options(ids=IdScheme(1, 5))
    convert(davis_root, lvos_root, "lvos", split="valid", videos=videos, options=ids)
    meta = json.loads((lvos_root / "valid_meta.json").read_text())["videos"]
    for sequence in videos:
        original = _davis_masks(davis_root, sequence)
        renamed = sorted(p.stem for p in (lvos_root / "Annotations" / sequence).glob("*.png"))
        assert renamed == [_lvos_id(i) for i in range(len(original))]
        assert meta[sequence]["source_frames"] == {
            _lvos_id(i): name for i, name in enumerate(original)
        }
        assert sorted(p.name for p in (lvos_root / "JPEGImages" / sequence).iterdir()) == [
            f"{_lvos_id(i)}.jpg" for i in range(len(original))
        ]
    back = tmp_path / "davis"
    convert(lvos_root, back, "davis")
    for sequence in videos:
        original = _davis_masks(davis_root, sequence)
        restored = _davis_masks(back, sequence)
        assert list(restored) == list(original)
        assert all(np.array_equal(restored[n], original[n]) for n in original)
        images = [sorted(p.name for p in (r / "JPEGImages/480p" / sequence).iterdir())
                  for r in (back, davis_root)]
        assert images[0] == images[1]


def test_lvos_ids_follow_the_source_by_default(tmp_path: Path, davis_root: Path) -> None:
    """DAVIS numbers its frames 00000, 00001, ...: the LVOS ids keep first id 0 and step 1, and
    frame_nums counts what the toolkit walks (every 5th id from start, plus end)."""
    convert(davis_root, tmp_path / "lvos", "lvos", split="valid", videos=["soccerball"])
    names = sorted(p.stem for p in (tmp_path / "lvos/Annotations/soccerball").glob("*.png"))
    assert names == [f"{i:08d}" for i in range(48)]
    frame_range = json.loads((tmp_path / "lvos/valid_meta.json").read_text())["videos"][
        "soccerball"
    ]["objects"]["1"]["frame_range"]
    walked = 0
    number = 0
    while number < 47:  # ids 0, 5, ..., 45 are walked; 47 is the end
        walked += 1
        number += 5
    assert frame_range == {"start": "00000000", "end": "00000047", "frame_nums": walked + 1}
    assert walked + 1 == 11


def test_frame_nums_as_the_lvos_toolkit_reads_them() -> None:
    lvos_ids = [f"{1 + 5 * i:08d}" for i in range(20)]
    tracker = RangeTracker(lvos_ids)
    for index, ids in ((1, [2]), (3, [1, 2]), (4, []), (9, [1]), (12, [2]), (15, [])):
        tracker.add(lvos_ids[index], ids)
    assert tracker.object_ids == [1, 2]
    # step 5: every stored frame from start to end, annotated or not
    assert tracker.frame_range(1) == {"start": lvos_ids[3], "end": lvos_ids[9], "frame_nums": 7}
    assert tracker.frame_range(2) == {"start": lvos_ids[1], "end": lvos_ids[12], "frame_nums": 12}
    assert tracker.present == {1: [3, 9], 2: [1, 3, 12]}
    with pytest.raises(ValueError, match="later frame"):
        tracker.add(lvos_ids[10], [1])
    step_one = RangeTracker([f"{i:08d}" for i in range(30)])
    step_one.add("00000002", [1])
    step_one.add("00000023", [1])
    assert step_one.frame_range(1)["frame_nums"] == len([2, 7, 12, 17, 22]) + 1
    other = RangeTracker(["a", "b", "c", "d"])  # not LVOS ids: stored frames
    other.add("b", [1])
    other.add("d", [1])
    assert other.frame_range(1) == {"start": "b", "end": "d", "frame_nums": 3}


def test_lvvis_instances_are_youtube_vis_2019(chain: dict[str, Path], davis_root: Path) -> None:
    data = json.loads((chain["lvvis"] / "train_instances.json").read_text())
    assert data["categories"] == [{"id": 1, "name": "object", "partition": 0}]
    videos = {v["id"]: v for v in data["videos"]}
    bear = next(v for v in videos.values() if v["file_names"][0].startswith("bear/"))
    assert (bear["length"], bear["height"], bear["width"]) == (82, 480, 854)
    assert bear["file_names"][:2] == [f"bear/{_lvos_id(0)}.jpg", f"bear/{_lvos_id(1)}.jpg"]
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
    assert (chain["lvvis"] / "JPEGImages" / "bear" / f"{_lvos_id(81)}.jpg").is_file()


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
    maps[frames[5]] = np.where(maps[frames[5]] == 2, 0, maps[frames[5]])  # 2 hides on frame 5
    video = VideoLabels("clip", frames, 20, 30, maps, {2: ObjectMeta(2, "dog")})
    tracker = RangeTracker(frames)
    for name in frames:
        tracker.add(name, np.unique(maps[name][(maps[name] > 0) & (maps[name] < 255)]))
    entry = youtube_vos.write_video(tmp_path, video, tracker)
    folder = tmp_path / "Annotations_convert" / "clip"
    assert sorted(p.stem for p in folder.glob("*.png")) == ["00000", "00003", "00007"]
    assert set(np.unique(read_label_map(folder / "00003.png"))) == {0, 2}
    assert set(np.unique(read_label_map(folder / "00007.png"))) == {0, 3}
    # frames where each object is present, its range over them, a category for every object
    present_2 = [frames[i] for i in (3, 4, 6, 7, 8, 9)]
    assert entry["objects"]["2"] == {
        "category": "dog",
        "frames": present_2,
        "frame_range": {"start": "00003", "end": "00009", "frame_nums": 7},
    }
    assert entry["objects"]["3"]["frames"] == frames[7:]
    assert entry["objects"]["1"]["category"] == entry["objects"]["3"]["category"] == "object"


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
    assert growing.to_json()[2] == {"id": 3, "name": "object", "partition": 0}
