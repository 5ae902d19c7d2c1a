"""labelme JSON, one file per frame beside its image.

Export: each object becomes polygon shapes with ``group_id`` = object id and ``label`` = its
category (or ``object``), ``imageData`` null. labelme polygons have no holes, so an object is
written as an ordered list of polygons that are filled in turn: a shape whose ``description``
is ``hole`` clears the pixels it encloses, any other sets them. The list is built by
simulating that fill with the same rasteriser the importer uses, so re-import restores the mask
exactly (outer outline, then its holes, then islands inside holes, ...). An object whose
outline cannot be expressed that way in a few rounds is written as one labelme ``mask`` shape.

Import: polygon, rectangle, circle and mask shapes (labelme 5.3+) become label maps; shapes
are grouped by ``group_id`` (or, without one, by label); objects overlapping each other are
painted in file order. Lines and points carry no area and are skipped.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from annotator.errors import AnnotatorError
from annotator.formats.categories import UNNAMED
from annotator.formats.json_files import expect, read_json, write_json
from annotator.formats.video_labels import LazyLabels, ObjectMeta, VideoLabels, object_presence

LABELME_VERSION = "5.5.0"
HOLE = "hole"
_MAX_ROUNDS = 8

Polygon = np.ndarray  # (N, 2) int32 x, y


def _fill(canvas: np.ndarray, polygon: Polygon, value: int) -> None:
    cv2.fillPoly(canvas, [polygon.reshape(-1, 1, 2).astype(np.int32)], value)


def _outlines(region: np.ndarray) -> list[Polygon]:
    contours, _ = cv2.findContours(
        region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    return [c.reshape(-1, 2) for c in contours]


def mask_to_polygons(mask: np.ndarray) -> list[tuple[Polygon, bool]] | None:
    """Polygons (points, is_hole) that, filled in order, give `mask` exactly; None if not found."""
    drawn = np.zeros(mask.shape, np.uint8)
    target = mask.astype(np.uint8)
    shapes: list[tuple[Polygon, bool]] = []
    for _ in range(_MAX_ROUNDS):
        for value, is_hole in ((1, False), (0, True)):
            region = (target == 1) & (drawn == 0) if value else (target == 0) & (drawn == 1)
            for polygon in _outlines(region):
                _fill(drawn, polygon, value)
                shapes.append((polygon, is_hole))
        if np.array_equal(drawn, target):
            return shapes
    return None


def _points(polygon: Polygon) -> list[list[float]]:
    points = [[float(x), float(y)] for x, y in polygon]
    while len(points) < 3:  # labelme wants three points; repeats fill the same pixels
        points.append(list(points[-1]))
    return points


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
    for object_id in object_presence(labels).tolist():
        info = objects.get(object_id)
        label = (info.category if info else "") or UNNAMED
        mask = labels == object_id
        polygons = mask_to_polygons(mask)
        pieces = (
            [_mask_shape(mask)]
            if polygons is None
            else [
                {
                    "shape_type": "polygon",
                    "points": _points(p),
                    "mask": None,
                    "description": HOLE if hole else "",
                }
                for p, hole in polygons
            ]
        )
        for piece in pieces:
            shapes.append(
                {
                    "label": label,
                    "group_id": object_id,
                    "flags": {},
                    "description": piece.pop("description", ""),
                    **piece,
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


def _shape_mask(shape: dict[str, Any], size: tuple[int, int], path: Path) -> np.ndarray | None:
    kind = shape.get("shape_type") or "polygon"
    try:
        points = np.asarray(shape.get("points") or [], dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError) as exc:
        raise AnnotatorError(f"shape {shape.get('label')!r}: bad points ({exc})", path) from exc
    canvas = np.zeros(size, np.uint8)
    if kind == "polygon" and len(points) >= 1:
        _fill(canvas, np.rint(points), 1)
    elif kind == "rectangle" and len(points) == 2:
        (x0, y0), (x1, y1) = np.rint(points.min(axis=0)), np.rint(points.max(axis=0))
        canvas[int(max(y0, 0)) : int(y1) + 1, int(max(x0, 0)) : int(x1) + 1] = 1
    elif kind == "circle" and len(points) == 2:
        centre = np.rint(points[0]).astype(int)
        radius = int(round(float(np.hypot(*(points[1] - points[0])))))
        cv2.circle(canvas, (int(centre[0]), int(centre[1])), radius, 1, thickness=-1)
    elif kind == "mask" and shape.get("mask") and len(points) >= 1:
        try:
            with Image.open(io.BytesIO(base64.b64decode(shape["mask"]))) as image:
                piece = np.asarray(image.convert("L")) > 0
        except (OSError, ValueError) as exc:
            raise AnnotatorError(
                f"shape {shape.get('label')!r}: unreadable mask ({exc})", path
            ) from exc
        x0, y0 = (int(v) for v in np.rint(points[0]))
        h = min(piece.shape[0], size[0] - y0)
        w = min(piece.shape[1], size[1] - x0)
        if h > 0 and w > 0 and x0 >= 0 and y0 >= 0:
            canvas[y0 : y0 + h, x0 : x0 + w] = piece[:h, :w]
    else:
        return None
    return canvas.astype(bool)


def read_frame(
    path: Path, size: tuple[int, int] | None = None, label_ids: dict[str, int] | None = None
) -> tuple[np.ndarray, dict[int, ObjectMeta]]:
    """Label map and objects of one labelme JSON; `size` (height, width) is checked.

    Shapes without a usable ``group_id`` are one object per label; pass the same `label_ids`
    dict for every frame of a video so that a label keeps its id from frame to frame.
    """
    data = read_json(path)
    expect(
        isinstance(data, dict) and isinstance(data.get("shapes"), list),
        path,
        'expected a labelme object with a "shapes" list',
    )
    try:
        file_size = (int(data["imageHeight"]), int(data["imageWidth"]))
    except (KeyError, TypeError, ValueError):
        file_size = None
    if size is not None and file_size is not None and file_size != tuple(size):
        raise AnnotatorError(
            f"image is {file_size[1]}x{file_size[0]} in the JSON but the frame "
            f"is {size[1]}x{size[0]}",
            path,
        )
    size = size or file_size
    if size is None:
        raise AnnotatorError("imageHeight and imageWidth are missing", path)
    groups: dict[Any, np.ndarray] = {}
    group_labels: dict[Any, str] = {}
    for shape in data["shapes"]:
        expect(isinstance(shape, dict), path, "every shape must be an object")
        group_id = shape.get("group_id")
        key = (
            ("id", group_id)
            if isinstance(group_id, int) and 1 <= group_id <= 254
            else ("label", str(shape.get("label", "")))
        )
        mask = _shape_mask(shape, size, path)
        if mask is None:
            continue
        canvas = groups.setdefault(key, np.zeros(size, bool))
        canvas[mask] = shape.get("description") != HOLE
        group_labels.setdefault(key, str(shape.get("label", "")))
    return _compose(groups, group_labels, size, path, {} if label_ids is None else label_ids)


def _compose(
    groups: dict[Any, np.ndarray],
    names: dict[Any, str],
    size: tuple[int, int],
    path: Path,
    label_ids: dict[str, int],
) -> tuple[np.ndarray, dict[int, ObjectMeta]]:
    labels = np.zeros(size, np.uint8)
    objects: dict[int, ObjectMeta] = {}
    taken = {key[1] for key in groups if key[0] == "id"}
    for key, mask in groups.items():
        if key[0] == "id":
            object_id = key[1]
        else:
            object_id = label_ids.get(key[1])
            if object_id is None:
                used = taken | set(label_ids.values())
                object_id = next((i for i in range(1, 255) if i not in used), None)
                if object_id is None:
                    raise AnnotatorError("more than 254 objects", path)
                label_ids[key[1]] = object_id
        label = names[key]
        objects[object_id] = ObjectMeta(object_id, "" if label == UNNAMED else label)
        labels[mask] = object_id
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
