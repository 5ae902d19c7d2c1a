"""labelme JSON, one file per frame beside its image, exact in labelme's own rasteriser.

Export: each object is one labelme instance: its shapes carry ``group_id`` = object id and
``label`` = its category (or ``object``); void (255) is written with labelme's ignore label
``__ignore__``; ``imageData`` is null. Every 8-connected piece of an object whose outline,
filled as labelme fills a polygon (see `labelme_raster`), gives exactly its pixels becomes a
polygon; the rest of the object (pieces with holes, hair-thin parts) becomes one ``mask``
shape, a base64 PNG of the box it covers. Objects never overlap, so labelme's label map of the
file equals the frame's label map.

Import: shapes are painted in file order by labelme's rules (`labelme_raster`), the later
shape winning where shapes overlap, as labelme's ``shapes_to_label`` does. A shape belongs to
the object given by its ``group_id`` (1..254), else to one object per label (kept from frame
to frame); ``__ignore__`` shapes are void (255). Lines and points carry no area and are
skipped. Files written by earlier versions of this tool mark hole polygons with
``description: "hole"``: such a shape clears its object's pixels instead of adding to them.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from annotator.errors import AnnotatorError
from annotator.formats.categories import UNNAMED
from annotator.formats.json_files import expect, read_json, write_json
from annotator.formats.labelme_raster import ShapeError, polygon_pixels, shape_pixels
from annotator.formats.validate import as_dict, as_str, image_size
from annotator.formats.video_labels import LazyLabels, ObjectMeta, VideoLabels, object_presence
from models.protocols import VOID

LABELME_VERSION = "5.5.0"
IGNORE_LABEL = "__ignore__"  # labelme's examples map this label to "ignored" pixels
HOLE = "hole"  # description of hole polygons in files from earlier versions of this tool


def _component_outline(piece: np.ndarray) -> list[list[float]]:
    """The outline of one 8-connected piece (pixel centres), at least three points."""
    contours, _ = cv2.findContours(
        piece.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    points = [[float(x), float(y)] for x, y in max(contours, key=len).reshape(-1, 2)]
    while len(points) < 3:  # labelme wants three points; repeats draw the same pixels
        points.append(list(points[-1]))
    return points


def object_shapes(mask: np.ndarray) -> Iterator[dict[str, Any]]:
    """Polygon and mask shapes (``shape_type``, ``points``, ``mask``) that labelme paints
    as exactly the pixels of `mask`."""
    count, pieces, stats, _ = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=8
    )
    rest = np.zeros(mask.shape, dtype=bool)
    for index in range(1, count):
        x, y, w, h = (int(v) for v in stats[index, :4])
        piece = pieces[y : y + h, x : x + w] == index
        outline = _component_outline(piece)
        if np.array_equal(polygon_pixels(outline, piece.shape), piece):
            points = [[px + x, py + y] for px, py in outline]
            yield {"shape_type": "polygon", "points": points, "mask": None}
        else:
            rest[y : y + h, x : x + w] |= piece
    if rest.any():
        yield _mask_shape(rest)


def _mask_shape(mask: np.ndarray) -> dict[str, Any]:
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())
    buffer = io.BytesIO()
    Image.fromarray(mask[y0 : y1 + 1, x0 : x1 + 1]).save(buffer, format="PNG")
    return {
        "shape_type": "mask",
        "points": [[float(x0), float(y0)], [float(x1), float(y1)]],
        "mask": base64.b64encode(buffer.getvalue()).decode("ascii"),
    }


def frame_document(
    labels: np.ndarray, objects: dict[int, ObjectMeta], image_path: str
) -> dict[str, Any]:
    """The labelme JSON of one frame."""
    shapes: list[dict[str, Any]] = []
    ids = object_presence(labels).tolist() + ([VOID] if (labels == VOID).any() else [])
    for object_id in ids:
        info = objects.get(object_id)
        label = IGNORE_LABEL if object_id == VOID else (info.category if info else "") or UNNAMED
        for shape in object_shapes(labels == object_id):
            shapes.append(
                {
                    "label": label,
                    "points": shape["points"],
                    "group_id": None if object_id == VOID else object_id,
                    "description": "",
                    "shape_type": shape["shape_type"],
                    "flags": {},
                    "mask": shape["mask"],
                }
            )
    height, width = labels.shape
    return {
        "version": LABELME_VERSION,
        "flags": {},
        "shapes": shapes,
        "imagePath": image_path,
        "imageData": None,
        "imageHeight": height,
        "imageWidth": width,
    }


def write_frame(
    path: Path, labels: np.ndarray, objects: dict[int, ObjectMeta], image_path: str
) -> None:
    write_json(path, frame_document(labels, objects, image_path), indent=1)


def _file_size(data: dict[str, Any], size: tuple[int, int] | None, path: Path) -> tuple[int, int]:
    if data.get("imageHeight") is None and data.get("imageWidth") is None:
        if size is None:
            raise AnnotatorError("imageHeight and imageWidth are missing", path)
        return size
    file_size = image_size(data.get("imageHeight"), data.get("imageWidth"), path, "the image")
    if size is not None and file_size != tuple(size):
        raise AnnotatorError(
            f"image is {file_size[1]}x{file_size[0]} in the JSON but the frame "
            f"is {size[1]}x{size[0]}",
            path,
        )
    return file_size


def _group_id(shape: dict[str, Any]) -> int | None:
    """The shape's group id when it can be an object id (1..254), else None."""
    group_id = shape.get("group_id")
    if isinstance(group_id, int) and not isinstance(group_id, bool) and 1 <= group_id <= 254:
        return group_id
    return None


def _object_of(
    shape: dict[str, Any], label_ids: dict[str, int], taken: set[int], path: Path
) -> int:
    """The object id a shape paints: its group id, void for the ignore label, else its
    label's id (a new one, not `taken` by group ids, for a label seen first)."""
    label = shape.get("label", "")
    group_id = _group_id(shape)
    if label == IGNORE_LABEL:
        return VOID
    if group_id is not None:
        return group_id
    object_id = label_ids.get(label)
    if object_id is None:
        used = taken | set(label_ids.values())
        object_id = next((i for i in range(1, 255) if i not in used), None)
        if object_id is None:
            raise AnnotatorError("more than 254 objects", path)
        label_ids[label] = object_id
    return object_id


def read_frame(
    path: Path, size: tuple[int, int] | None = None, label_ids: dict[str, int] | None = None
) -> tuple[np.ndarray, dict[int, ObjectMeta]]:
    """Label map and objects of one labelme JSON; `size` (height, width) is checked.

    Pass the same `label_ids` dict for every frame of a video so that a label without a
    group id keeps its object id from frame to frame.
    """
    data = read_json(path)
    expect(
        isinstance(data, dict) and isinstance(data.get("shapes"), list),
        path,
        'expected a labelme object with a "shapes" list',
    )
    size = _file_size(data, size, path)
    label_ids = {} if label_ids is None else label_ids
    shapes = data["shapes"]
    for number, shape in enumerate(shapes):
        as_dict(shape, path, f"shape {number}")
        as_str(shape.get("label", ""), path, f"shape {number}: label")
        if shape.get("shape_type") is not None:
            as_str(shape["shape_type"], path, f"shape {number}: shape_type")
    taken = {group_id for group_id in map(_group_id, shapes) if group_id is not None}
    labels = np.zeros(size, np.uint8)
    objects: dict[int, ObjectMeta] = {}
    for number, shape in enumerate(shapes):
        kind = shape.get("shape_type") or "polygon"
        try:
            pixels = shape_pixels(kind, shape.get("points"), size, shape.get("mask"))
        except ShapeError as exc:
            raise AnnotatorError(f"shape {number} ({shape.get('label')!r}): {exc}", path) from exc
        if pixels is None:
            continue
        object_id = _object_of(shape, label_ids, taken, path)
        if shape.get("description") == HOLE:
            labels[pixels & (labels == object_id)] = 0
        else:
            labels[pixels] = object_id
        if object_id != VOID and object_id not in objects:
            label = shape.get("label", "")
            objects[object_id] = ObjectMeta(object_id, "" if label == UNNAMED else label)
    return labels, objects


def read_video_frames(
    name: str,
    frame_names: list[str],
    size: tuple[int, int],
    paths: dict[str, Path],
    frame_files: list[str] | None = None,
) -> VideoLabels:
    """A video whose annotations are labelme JSONs (frame name -> path); read lazily.

    Objects are filled in as frames are read, so read every frame before using `objects`.
    """
    known = set(frame_names)
    for frame, path in paths.items():
        if frame not in known:
            raise AnnotatorError(f"labelme file has no frame called {frame!r}", path)
    label_ids: dict[str, int] = {}
    video = VideoLabels(name, frame_names, size[0], size[1], {}, frame_files=frame_files)

    def load(frame: str) -> np.ndarray:
        labels, objects = read_frame(paths[frame], size, label_ids)
        for object_id, info in objects.items():
            video.objects.setdefault(object_id, info)
        return labels

    video.labels = LazyLabels([n for n in frame_names if n in paths], load)
    return video
