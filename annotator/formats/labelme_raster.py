"""Shapes to pixels by labelme's own rules (``labelme.utils.shape_to_mask`` and
``shapes_to_label``, labelme 5.x to 6.x), so that what this tool reads from or writes to a
labelme file is what labelme itself makes of it.

- polygon (and oriented rectangle): Pillow's ``ImageDraw.polygon`` with outline and fill,
  at the points as given (floats);
- rectangle: Pillow's ``ImageDraw.rectangle`` between the two corners, outline and fill;
- circle: Pillow's ``ImageDraw.ellipse`` around the centre, radius the distance to the
  second point;
- mask: the PNG's pixels placed at the first point, both coordinates truncated to integers
  (the second point is the box's last pixel);
- lines and points carry no area and are not painted here.

Shapes are painted in file order: where they overlap, the later shape wins.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from annotator.errors import AnnotatorError
from annotator.video.images import MASK_FORMATS, open_image

AREA_SHAPES = ("polygon", "oriented_rectangle", "rectangle", "circle", "mask")
MAX_COORDINATE = 1e6  # far outside any frame, still safe for Pillow's rasteriser


class ShapeError(ValueError):
    """A shape that cannot be drawn (wrong number of points, coordinates, mask data)."""


def _canvas(size: tuple[int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (size[1], size[0]), 0)
    return image, ImageDraw.Draw(image)


def polygon_pixels(points: Sequence[Sequence[float]], size: tuple[int, int]) -> np.ndarray:
    """Pixels of a polygon as labelme fills it (outline included); `size` is (height, width)."""
    image, draw = _canvas(size)
    draw.polygon([(float(x), float(y)) for x, y in points], outline=1, fill=1)
    return np.asarray(image, dtype=bool)


def _checked_points(points: object, kind: str) -> list[tuple[float, float]]:
    try:
        array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"points must be a list of [x, y] ({exc})") from exc
    if not np.isfinite(array).all() or np.abs(array).max(initial=0) > MAX_COORDINATE:
        raise ShapeError(f"points must be finite and within {MAX_COORDINATE:g}")
    wanted = {"rectangle": 2, "circle": 2, "oriented_rectangle": 4, "mask": 2}.get(kind)
    if (wanted is not None and len(array) != wanted) or (kind == "polygon" and len(array) < 3):
        raise ShapeError(f"a {kind} needs {wanted or 'at least 3'} points, got {len(array)}")
    return [(float(x), float(y)) for x, y in array]


def decode_mask(data: object, size: tuple[int, int]) -> np.ndarray:
    """The boolean pixels of a mask shape's base64 PNG, which must be `size` (height, width):
    checked from its header before it is decoded."""
    if not isinstance(data, str):
        raise ShapeError("a mask shape needs its mask as a base64 PNG")
    try:
        raw = base64.b64decode(data, validate=True)
        with open_image(io.BytesIO(raw), "mask", MASK_FORMATS, None) as image:
            if (image.height, image.width) != size:
                raise ShapeError(f"mask is {image.width}x{image.height} but its points span "
                                 f"{size[1]}x{size[0]}")
            image.load()
            pixels = np.asarray(image) > 0 if image.mode != "1" else np.asarray(image)
    except AnnotatorError as exc:  # an image that does not decode or declares too much
        raise ShapeError(str(exc)) from exc
    except (ValueError, binascii.Error) as exc:
        raise ShapeError(f"unreadable mask ({exc})") from exc
    if pixels.ndim != 2:
        raise ShapeError(f"mask has {pixels.ndim} dimensions; expected a one-channel PNG")
    return pixels


def shape_pixels(
    kind: str, points: object, size: tuple[int, int], mask: object = None
) -> np.ndarray | None:
    """The pixels labelme paints for one shape (None for lines and points)."""
    if kind not in AREA_SHAPES:
        return None
    xy = _checked_points(points, kind)
    if kind in ("polygon", "oriented_rectangle"):
        return polygon_pixels(xy, size)
    image, draw = _canvas(size)
    if kind == "rectangle":
        (x0, y0), (x1, y1) = xy
        draw.rectangle(((min(x0, x1), min(y0, y1)), (max(x0, x1), max(y0, y1))), outline=1, fill=1)
    elif kind == "circle":
        (cx, cy), (px, py) = xy
        radius = math.hypot(cx - px, cy - py)
        draw.ellipse(((cx - radius, cy - radius), (cx + radius, cy + radius)), outline=1, fill=1)
    else:
        box = _mask_box(xy)
        piece = decode_mask(mask, (box[3] - box[1] + 1, box[2] - box[0] + 1))
        return _placed_mask(piece, box, size)
    return np.asarray(image, dtype=bool)


def _mask_box(xy: list[tuple[float, float]]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of a mask shape: its first and last pixel, truncated as labelme does."""
    (x0, y0), (x1, y1) = ((int(x), int(y)) for x, y in xy)
    if x1 < x0 or y1 < y0:
        raise ShapeError(f"a mask's second point ({x1}, {y1}) lies before its first ({x0}, {y0})")
    return x0, y0, x1, y1


def _placed_mask(
    piece: np.ndarray, box: tuple[int, int, int, int], size: tuple[int, int]
) -> np.ndarray:
    """A mask shape's pixels on the frame: its box from the first point (truncated), as
    labelme places it; the parts outside the frame are cut off."""
    x0, y0, x1, y1 = box
    canvas = np.zeros(size, dtype=bool)
    top, left = max(y0, 0), max(x0, 0)
    bottom, right = min(y1 + 1, size[0]), min(x1 + 1, size[1])
    if bottom > top and right > left:
        canvas[top:bottom, left:right] = piece[top - y0 : bottom - y0, left - x0 : right - x0]
    return canvas
