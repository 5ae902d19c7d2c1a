"""The regions a prompt pins down: a click's short geodesic walk, a box's inside."""

from __future__ import annotations

import cv2
import numpy as np

from models.classic.seg_geodesic import geodesic_distance


def click_region(cost: np.ndarray, x: int, y: int, reach: float, window: int,
                 disk: int) -> np.ndarray:
    """Pixels within geodesic length `reach` of pixel (x, y) inside the frame, searched at most
    `window` pixels around it, and a disk of radius `disk` around it: a click's hard region,
    which follows a thin structure and stops at edges."""
    h, w = cost.shape
    x0, y0, x1, y1 = max(0, x - window), max(0, y - window), min(w, x + window + 1), \
        min(h, y + window + 1)
    seed = np.zeros((y1 - y0, x1 - x0), bool)
    seed[y - y0, x - x0] = True
    region = np.zeros((h, w), bool)
    region[y0:y1, x0:x1] = geodesic_distance(cost[y0:y1, x0:x1], seed) <= reach
    cv2.circle(region.view(np.uint8), (x, y), disk, 1, -1)
    return region


def box_mask(shape: tuple[int, int], box: np.ndarray, grow: int = 0) -> np.ndarray:
    """The pixels of `box` (x0, y0, x1, y1), grown by `grow` on each side."""
    h, w = shape
    x0, y0, x1, y1 = box
    out = np.zeros(shape, bool)
    out[max(0, int(y0) - grow): min(h, int(np.ceil(y1)) + grow + 1),
        max(0, int(x0) - grow): min(w, int(np.ceil(x1)) + grow + 1)] = True
    return out
