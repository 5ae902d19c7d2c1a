"""Label-map PNGs: forgiving reads (P, L, LA, RGB, RGBA), strict 8-bit palette writes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from annotator.errors import AnnotatorError
from annotator.formats.atomic import atomic_write_bytes
from annotator.formats.palette import davis_palette
from annotator.video.images import MASK_FORMATS, open_image


def read_label_map(path: str | Path, expected_size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a mask as an H x W uint8 label map; `expected_size` is (height, width), checked
    from the header before anything is decoded."""
    path = Path(path)
    with open_image(path, "mask", MASK_FORMATS, path) as image:
        if expected_size is not None and (image.height, image.width) != tuple(expected_size):
            raise AnnotatorError(
                f"mask is {image.width}x{image.height} but its frame is "
                f"{expected_size[1]}x{expected_size[0]}",
                path,
            )
        image.load()
        return _to_labels(image, path)


def _to_labels(image: Image.Image, path: Path) -> np.ndarray:
    if image.mode == "P":
        return np.array(image, dtype=np.uint8)
    if image.mode in ("L", "LA", "I", "I;16", "1"):
        values = np.array(image.getchannel(0) if image.mode == "LA" else image)
        if values.dtype == bool:
            return values.astype(np.uint8)
        if values.min(initial=0) < 0 or values.max(initial=0) > 255:
            raise AnnotatorError("mask values lie outside 0..255; expected 8-bit object ids",
                                 path)
        values = values.astype(np.uint8)
        return _binary_to_object(values)
    if image.mode in ("RGB", "RGBA"):
        return _colours_to_labels(np.array(image.convert("RGB")), path)
    raise AnnotatorError(f"unsupported mask mode {image.mode}", path)


def _binary_to_object(values: np.ndarray) -> np.ndarray:
    """A 0/255 mask is one object (id 1); anything else already holds ids."""
    present = np.unique(values)
    if present.size and set(present.tolist()) <= {0, 255}:
        return np.asarray(values == 255, dtype=np.uint8)
    return values


def _pack_rgb(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.uint32)
    return np.asarray((rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2])


def _colours_to_labels(rgb: np.ndarray, path: Path) -> np.ndarray:
    packed = _pack_rgb(rgb)
    colours, inverse = np.unique(packed.ravel(), return_inverse=True)
    if set(colours.tolist()) <= {0, 0xFFFFFF}:
        return np.asarray(packed == 0xFFFFFF, dtype=np.uint8)
    palette_packed = _pack_rgb(davis_palette())
    lookup: dict[int, int] = {}
    for index, colour in enumerate(palette_packed.tolist()):
        lookup.setdefault(int(colour), index)
    ids = np.empty(colours.size, dtype=np.uint8)
    for index, colour in enumerate(colours.tolist()):
        if colour not in lookup:
            y, x = np.unravel_index(int(np.argmax(packed == colour)), packed.shape)
            raise AnnotatorError(
                f"unknown colour {(colour >> 16, (colour >> 8) & 255, colour & 255)} "
                f"at x={x}, y={y}: not in the DAVIS palette",
                path,
            )
        ids[index] = lookup[colour]
    return ids[inverse].reshape(packed.shape)


def encode_label_map(labels: np.ndarray) -> bytes:
    """PNG bytes of an 8-bit palette image, palette padded to 256 entries."""
    if labels.ndim != 2 or labels.dtype != np.uint8:
        raise ValueError(f"label map must be 2-D uint8, got {labels.dtype} {labels.shape}")
    image = Image.frombytes("P", (labels.shape[1], labels.shape[0]), np.ascontiguousarray(labels))
    image.putpalette(davis_palette().ravel().tolist())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def write_label_map(path: str | Path, labels: np.ndarray) -> None:
    atomic_write_bytes(path, encode_label_map(labels))
