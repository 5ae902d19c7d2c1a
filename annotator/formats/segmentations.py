"""COCO-style segmentations (compressed RLE, uncompressed RLE, polygons) to and from masks,
through pycocotools, every input checked first.

pycocotools trusts its input: RLE counts that do not cover the frame decode to whatever its
buffer held, a negative count overflows, a compressed string cut inside a count is read past
its end, and a polygon point at 1e9 makes it allocate the edge pixel by pixel until it
crashes. So a segmentation reaches it only once its counts are whole numbers that cover the
frame exactly and its polygon points are finite and near the frame.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from annotator.errors import AnnotatorError

# Polygon points may lie outside the frame (COCO's tools clip them), up to one frame's size.
POLYGON_MARGIN = 1.0
# pycocotools walks each polygon edge at 5x resolution; the edges together may be at most this
# many frame areas long (an outline that visits every pixel twice is one).
POLYGON_PERIMETER_AREAS = 2


def encode_masks(labels: np.ndarray, object_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Compressed RLE (JSON-ready, counts as str) of each object's mask in `labels`."""
    ids = np.asarray(list(object_ids), dtype=np.uint8)
    if ids.size == 0:
        return []
    stack = np.asfortranarray((labels[:, :, None] == ids[None, None, :]).astype(np.uint8))
    encoded = mask_utils.encode(stack)
    return [{"size": list(rle["size"]), "counts": rle["counts"].decode("ascii")} for rle in encoded]


def compressed_counts(text: str) -> list[int]:
    """The run lengths in a compressed RLE string (COCO's LEB128-like code: six bits a
    character from '0', five of value and a continuation bit, the last one's sign bit
    extended, each count after the second stored as a difference to the one two before).
    ValueError on a character outside the code or a string cut inside a count."""
    counts: list[int] = []
    value = shift = 0
    for position, char in enumerate(text):
        code = ord(char) - 48
        if not 0 <= code < 64:
            raise ValueError(f"RLE counts: character {char!r} at {position} is not in the code")
        value |= (code & 0x1F) << shift
        shift += 5
        if code & 0x20:
            continue
        if code & 0x10:
            value |= -1 << shift
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
        value = shift = 0
    if shift:
        raise ValueError("RLE counts: the string ends inside a count")
    return counts


def _checked_counts(counts: list[int], height: int, width: int) -> None:
    if any(c < 0 for c in counts):
        raise ValueError(f"RLE counts: negative run length {min(counts)}")
    total = sum(counts)
    if total != height * width:
        raise ValueError(
            f"RLE counts cover {total} pixels but the frame has {height}x{width} = "
            f"{height * width}"
        )


def _rle(segmentation: dict[str, Any], height: int, width: int) -> dict[str, Any]:
    """A checked pycocotools RLE (counts as bytes) from a JSON RLE object."""
    size = segmentation["size"]
    if (
        not isinstance(size, list)
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in size)
    ):
        raise ValueError(f"RLE size must be [height, width], not {size!r}")
    if size != [height, width]:
        raise ValueError(f"RLE size {size[1]}x{size[0]} differs from the video's {width}x{height}")
    counts = segmentation["counts"]
    if isinstance(counts, list):
        if not all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
            raise ValueError("RLE counts must be whole numbers")
        _checked_counts(counts, height, width)
        rle: dict[str, Any] = mask_utils.frPyObjects({"size": size, "counts": counts},
                                                     height, width)
        return rle
    if not isinstance(counts, str):
        raise ValueError(f"RLE counts must be a string or a list, not {type(counts).__name__}")
    _checked_counts(compressed_counts(counts), height, width)
    return {"size": size, "counts": counts.encode("ascii")}


def _polygons(segmentation: list[Any], height: int, width: int) -> list[list[float]]:
    """Checked polygons (shorter than three points skipped, as COCO's tools do)."""
    polygons = []
    perimeter = 0.0
    low = np.array([-POLYGON_MARGIN * width, -POLYGON_MARGIN * height])
    high = np.array([(1 + POLYGON_MARGIN) * width, (1 + POLYGON_MARGIN) * height])
    for polygon in segmentation:
        if not isinstance(polygon, list) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in polygon
        ):
            raise ValueError("a polygon must be a list of numbers")
        if len(polygon) % 2:
            raise ValueError(f"a polygon has an odd number of coordinates ({len(polygon)})")
        if len(polygon) < 6:
            continue
        points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        outside = ~(np.isfinite(points) & (points >= low) & (points <= high)).all(axis=1)
        if outside.any():
            x, y = points[int(np.argmax(outside))]
            raise ValueError(f"polygon point ({x:g}, {y:g}) lies far outside the "
                             f"{width}x{height} frame")
        perimeter += float(np.abs(points - np.roll(points, 1, axis=0)).max(axis=1).sum())
        polygons.append([float(v) for v in polygon])
    if perimeter > POLYGON_PERIMETER_AREAS * height * width:
        raise ValueError(f"polygons {perimeter:.0f} pixels long do not fit a "
                         f"{width}x{height} frame")
    return polygons


def _decode(rle: Any) -> np.ndarray:
    with warnings.catch_warnings():  # pycocotools' numpy 2 copy= notice, harmless
        warnings.simplefilter("ignore", DeprecationWarning)
        return np.asarray(mask_utils.decode(rle), dtype=bool)


def decode_segmentation(segmentation: Any, height: int, width: int, source: Path) -> np.ndarray:
    """A bool H x W mask from compressed RLE, uncompressed RLE or polygons, checked before
    pycocotools sees it; AnnotatorError about `source` when it is not a usable one."""
    try:
        if isinstance(segmentation, dict):
            return _decode(_rle(segmentation, height, width))
        if isinstance(segmentation, list):
            polygons = _polygons(segmentation, height, width)
            if not polygons:
                return np.zeros((height, width), dtype=bool)
            return _decode(mask_utils.merge(mask_utils.frPyObjects(polygons, height, width)))
    except KeyError as exc:
        raise AnnotatorError(f"an RLE segmentation without {exc}", source) from exc
    except ValueError as exc:
        raise AnnotatorError(str(exc), source) from exc
    raise AnnotatorError(
        f"segmentation of type {type(segmentation).__name__} is neither RLE nor polygons", source
    )
