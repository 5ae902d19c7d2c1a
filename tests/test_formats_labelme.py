"""labelme files: exact under labelme's own rasteriser, read back as labelme reads them.

`_as_labelme_paints` below is written here from labelme's rules (labelme.utils.shape_to_mask
and shapes_to_label, 5.x-6.x), independently of the module under test: Pillow polygons with
outline and fill, mask shapes placed at their first point, one instance per (label,
group_id), later shapes over earlier ones.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import DEV_SEQUENCES
from PIL import Image, ImageDraw

from annotator.errors import AnnotatorError
from annotator.formats import labelme
from annotator.formats.convert import Options, convert
from annotator.formats.frame_ids import IdScheme
from annotator.formats.masks import read_label_map
from annotator.formats.video_labels import ObjectMeta


def _as_labelme_paints(document: dict, size: tuple[int, int]) -> np.ndarray:
    """The label map labelme makes of a file: group id per instance, 255 for __ignore__."""
    labels = np.zeros(size, np.uint8)
    for shape in document["shapes"]:
        if shape["shape_type"] == "mask":
            piece = np.asarray(Image.open(io.BytesIO(base64.b64decode(shape["mask"])))).astype(bool)
            (x0, y0), (x1, y1) = np.asarray(shape["points"]).astype(int)
            pixels = np.zeros(size, bool)
            pixels[y0 : y1 + 1, x0 : x1 + 1] = piece
        else:
            assert shape["shape_type"] == "polygon" and len(shape["points"]) > 2
            image = Image.fromarray(np.zeros(size, np.uint8))
            ImageDraw.Draw(image).polygon(
                [tuple(point) for point in shape["points"]], outline=1, fill=1
            )
            pixels = np.asarray(image, dtype=bool)
        labels[pixels] = 255 if shape["label"] == "__ignore__" else shape["group_id"]
    return labels


def _keys_as_labelme_wants(document: dict) -> None:
    """labelme 6 refuses shapes without these keys or with other types."""
    for shape in document["shapes"]:
        assert set(shape) == {
            "label", "points", "group_id", "description", "shape_type", "flags", "mask"
        }
        assert all(len(p) == 2 and all(isinstance(v, float) for v in p) for p in shape["points"])
        assert shape["mask"] is None or isinstance(shape["mask"], str)


def test_dev_masks_are_exact_in_labelmes_rasteriser(davis_root: Path, tmp_path: Path) -> None:
    kinds: dict[str, int] = {}
    checked = 0
    for sequence in DEV_SEQUENCES:
        folder = davis_root / "Annotations" / "480p" / sequence
        for path in sorted(folder.glob("*.png"))[::6]:
            truth = read_label_map(path)
            document = labelme.frame_document(truth, {1: ObjectMeta(1, "animal")}, "f.jpg")
            _keys_as_labelme_wants(document)
            assert document["imageData"] is None
            assert all(s["group_id"] == 1 and s["label"] == "animal" for s in document["shapes"])
            assert np.array_equal(_as_labelme_paints(document, truth.shape), truth), path
            out = tmp_path / "frame.json"
            out.write_text(json.dumps(document))
            labels, objects = labelme.read_frame(out, truth.shape)
            assert np.array_equal(labels, truth), path
            assert objects == {1: ObjectMeta(1, "animal")}
            for shape in document["shapes"]:
                kinds[shape["shape_type"]] = kinds.get(shape["shape_type"], 0) + 1
            checked += 1
    assert checked > 120
    # outlines where a polygon says it, a mask shape for the rest (pieces with holes)
    assert kinds["polygon"] > kinds.get("mask", 0) > 0


def test_holes_islands_void_and_several_objects() -> None:
    labels = np.zeros((60, 80), np.uint8)
    labels[5:55, 5:45] = 1
    labels[15:45, 15:35] = 0  # a hole
    labels[25:35, 22:28] = 1  # an island inside the hole
    labels[10:20, 50:75] = 2
    labels[40:50, 50:75] = 2  # one object in two pieces
    labels[12, 60] = 0  # a one-pixel hole
    labels[58, 79] = 3  # a one-pixel object
    labels[57, 70:73] = 3  # a one-pixel-high line
    labels[0:3, 60:80] = 255  # void
    document = labelme.frame_document(labels, {2: ObjectMeta(2, "kite")}, "x.jpg")
    _keys_as_labelme_wants(document)
    assert not any(s["description"] for s in document["shapes"])
    assert {s["label"] for s in document["shapes"]} == {"object", "kite", "__ignore__"}
    assert np.array_equal(_as_labelme_paints(document, labels.shape), labels)
    masks = [s for s in document["shapes"] if s["shape_type"] == "mask"]
    assert {s["group_id"] for s in masks} == {1, 2}  # 1 has a hole, 2 a one-pixel hole


def _write(tmp_path: Path, shapes: list[dict], size: tuple[int, int] = (50, 60)) -> Path:
    path = tmp_path / "a.json"
    document = {"shapes": shapes, "imageHeight": size[0], "imageWidth": size[1],
                "imagePath": "a.jpg", "imageData": None}
    path.write_text(json.dumps(document))
    return path


def _pillow(size: tuple[int, int], draw: str, *args: object) -> np.ndarray:
    image = Image.fromarray(np.zeros(size, np.uint8))
    getattr(ImageDraw.Draw(image), draw)(*args, outline=1, fill=1)
    return np.asarray(image, dtype=bool)


def test_shapes_made_by_people_read_as_labelme_draws_them(tmp_path: Path) -> None:
    shapes = [
        {"label": "dog", "points": [[2, 2], [11, 2], [11, 9], [2, 9]], "shape_type": "polygon"},
        {"label": "cat", "points": [[29, 25], [20, 20]], "shape_type": "rectangle"},
        {"label": "dog", "points": [[40, 40], [44, 40]], "shape_type": "circle"},
        {"label": "line", "points": [[0, 0], [5, 5]], "shape_type": "line"},
        {"label": "__ignore__", "points": [[0, 45], [5, 49]], "shape_type": "rectangle"},
    ]
    ids: dict[str, int] = {}
    labels, objects = labelme.read_frame(_write(tmp_path, shapes), (50, 60), ids)
    assert ids == {"dog": 1, "cat": 2}
    circle = _pillow((50, 60), "ellipse", ((36.0, 36.0), (44.0, 44.0)))
    assert (labels[2:10, 2:12] == 1).all() and (labels[20:26, 20:30] == 2).all()
    assert np.array_equal(labels[30:50, 30:50] == 1, circle[30:50, 30:50])
    assert (labels == 1).sum() == 80 + circle.sum()
    assert (labels == 255).sum() == 6 * 5 and labels[0, 0] == labels[1, 1] == 0  # no line
    assert objects == {1: ObjectMeta(1, "dog"), 2: ObjectMeta(2, "cat")}


def test_overlapping_shapes_later_one_wins(tmp_path: Path) -> None:
    square = [[10, 10], [29, 10], [29, 29], [10, 29]]
    shapes = [
        {"label": "a", "group_id": 1, "points": square, "shape_type": "polygon"},
        {"label": "b", "group_id": 2, "points": [[20, 20], [39, 39]], "shape_type": "rectangle"},
        {"label": "a", "group_id": 1, "points": [[35, 35], [45, 45]], "shape_type": "rectangle"},
    ]
    labels, _ = labelme.read_frame(_write(tmp_path, shapes), (50, 60))
    assert labels[15, 15] == 1 and labels[25, 25] == 2  # b over the first shape of a
    assert labels[37, 37] == 1 and labels[22, 37] == 2  # the second shape of a over b
    assert (labels == 1).sum() == 400 - 100 + 121 and (labels == 2).sum() == 400 - 25


def test_mask_shapes_and_files_from_earlier_versions(tmp_path: Path) -> None:
    piece = np.zeros((4, 6), bool)
    piece[1:3, 2:5] = True
    buffer = io.BytesIO()
    Image.fromarray(piece).save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode()
    outer = [[1, 1], [20, 1], [20, 20], [1, 20]]
    hole = [[5, 5], [10, 5], [10, 10], [5, 10]]
    shapes = [
        {"label": "m", "group_id": 3, "points": [[30.7, 40.2], [35.9, 43.9]],
         "shape_type": "mask", "mask": data},
        {"label": "old", "group_id": 1, "points": outer, "shape_type": "polygon"},
        {"label": "old", "group_id": 1, "points": hole, "shape_type": "polygon",
         "description": "hole"},
    ]
    labels, _ = labelme.read_frame(_write(tmp_path, shapes), (50, 60))
    assert np.array_equal(labels[40:44, 30:36] == 3, piece)  # placed at int(30.7), int(40.2)
    assert (labels == 3).sum() == piece.sum()
    assert (labels == 1).sum() == 20 * 20 - 6 * 6 and labels[7, 7] == 0


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ({"points": [[0, 0], [float("nan"), 1], [2, 2]], "shape_type": "polygon"}, "finite"),
        ({"points": [[0, 0], [1e9, 1], [2, 2]], "shape_type": "polygon"}, "finite"),
        ({"points": [[0, 0], [9, 9]], "shape_type": "mask", "mask": "bm90IGEgcG5n"}, "mask"),
        ({"points": [[0, 0]], "shape_type": "rectangle"}, "2 points"),
    ],
)
def test_bad_shapes_name_the_file(tmp_path: Path, shape: dict, message: str) -> None:
    with pytest.raises(AnnotatorError, match=rf"a\.json: shape 0 \('x'\).*{message}"):
        labelme.read_frame(_write(tmp_path, [{"label": "x", **shape}]), (50, 60))


def test_labelme_export_and_import_through_convert(tmp_path: Path, davis_root: Path) -> None:
    """DAVIS -> LVOS (renamed to LVOS ids) -> labelme gives the frames their DAVIS names back;
    labelme -> LVOS reads every mask exactly."""
    lvos_root = tmp_path / "lvos"
    options = Options(ids=IdScheme(1, 5))
    convert(davis_root, lvos_root, "lvos", videos=["swing"], options=options)
    out = tmp_path / "labelme"
    convert(lvos_root, out, "labelme", videos=["swing"])
    document = json.loads((out / "JPEGImages" / "swing" / "00010.json").read_text())
    assert document["imagePath"] == "00010.jpg"
    assert (out / "JPEGImages" / "swing" / "00010.jpg").is_file()
    back = tmp_path / "back"
    convert(out, back, "lvos", videos=["swing"], options=options)
    truths = sorted((davis_root / "Annotations/480p/swing").glob("*.png"))
    for index, path in enumerate(truths):
        written = read_label_map(back / "Annotations/swing" / f"{1 + 5 * index:08d}.png")
        assert np.array_equal(written, read_label_map(path)), path.name
