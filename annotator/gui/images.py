"""Numpy arrays to QImages: the frame, the coloured mask overlay and candidate previews."""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np
from PyQt6.QtGui import QImage, qRgba

from annotator.quality.render import boundary

MIN_OUTLINE = 3  # outline width in image pixels: at least this, more on large frames


def frame_to_qimage(frame: np.ndarray) -> QImage:
    """An H x W x 3 RGB uint8 frame as a QImage that owns its own copy of the pixels."""
    frame = np.ascontiguousarray(frame, dtype=np.uint8)
    height, width = frame.shape[:2]
    image = QImage(frame.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return image.copy()


def rgba_to_qimage(rgba: np.ndarray) -> QImage:
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    height, width = rgba.shape[:2]
    image = QImage(rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888)
    return image.copy()


def outline_width(shape: tuple[int, ...]) -> int:
    """An outline width legible when the whole frame is in view (3 px at 720p, 5 at 1080p)."""
    return max(MIN_OUTLINE, round(max(shape[:2]) / 400))


def outlines(labels: np.ndarray, width: int) -> np.ndarray:
    """Each object's band of `width` pixels along its edge, inside it, with its own id (where
    two objects meet, each keeps its side); 0 elsewhere."""
    band = cv2.dilate(boundary(labels).astype(np.uint8), np.ones((2 * width - 1,) * 2, np.uint8))
    return np.where(band.view(bool), labels, 0).astype(np.uint8)


def indexed_qimage(values: np.ndarray, table: list[int]) -> QImage:
    """An H x W uint8 array drawn through a 256-entry ARGB colour table (no per-pixel work)."""
    values = np.ascontiguousarray(values, dtype=np.uint8)
    height, width = values.shape
    image = QImage(values.data, width, height, width, QImage.Format.Format_Indexed8)
    image.setColorTable(table)
    return image.copy()


def overlay_image(
    labels: np.ndarray,
    colours: np.ndarray,
    opacity: float,
    hidden: Iterable[int] = (),
    outline_only: bool = False,
) -> QImage:
    """The masks of a label map in their colours (`colours` 256 x 3 per id); background and
    `hidden` ids stay clear; outline-only draws a band along each object's edge, in its own
    colour at full strength (`outline_width` wide)."""
    alpha = 255 if outline_only else round(255 * max(0.0, min(1.0, opacity)))
    table = [qRgba(int(r), int(g), int(b), alpha) for r, g, b in colours]
    for object_id in (0, *hidden):
        table[object_id] = qRgba(0, 0, 0, 0)
    shown = outlines(labels, outline_width(labels.shape)) if outline_only else labels
    return indexed_qimage(shown, table)


def rim_image(mask: np.ndarray) -> QImage:
    """A white outline around a bool mask (the selected object)."""
    rim = (boundary(mask.astype(np.uint8)) & mask).astype(np.uint8)
    return indexed_qimage(rim, [qRgba(0, 0, 0, 0), qRgba(255, 255, 255, 255)] + [0] * 254)


def candidate_rgba(mask: np.ndarray, colour: tuple[int, int, int], opacity: float) -> np.ndarray:
    """Preview of a mask not yet accepted: the object colour, dashed by a white outline."""
    rgba = np.zeros((*mask.shape, 4), dtype=np.uint8)
    rgba[mask, :3] = colour
    rgba[mask, 3] = round(255 * max(0.2, min(1.0, opacity)))
    rim = boundary(mask.astype(np.uint8)) & mask
    rgba[rim] = (255, 255, 255, 255)
    return rgba
