"""A person's edits of one object on one frame that take more than one stroke's worth of work."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from annotator.annotation.video_annotation import VideoAnnotation


def replace_mask(annotation: VideoAnnotation, index: int, object_id: int,
                 mask: np.ndarray, protect: bool = False) -> None:
    """The object's mask on frame `index` becomes exactly `mask` (bool H x W), one undo step;
    with `protect`, without the pixels other objects (or void) hold there."""
    with annotation.transaction("accept mask"):
        annotation.erase(index, ~mask, object_id)
        annotation.paint(index, object_id, mask, protect=protect)


def fill_holes(annotation: VideoAnnotation, index: int, object_id: int,
               protect: bool = False) -> None:
    """Paint the holes inside the object's mask on frame `index` (with `protect`, only those
    that are background)."""
    current = annotation.object_mask(index, object_id)
    holes = ndimage.binary_fill_holes(current) & ~current
    if holes.any():
        annotation.paint(index, object_id, holes, protect=protect)


def clear_object(annotation: VideoAnnotation, index: int, object_id: int) -> None:
    """Erase the object from frame `index`."""
    mask = annotation.object_mask(index, object_id)
    if mask.any():
        annotation.erase(index, mask, object_id)
