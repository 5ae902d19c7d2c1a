"""The DAVIS palette (the PASCAL VOC colour map): entry i is the colour of object id i."""

from __future__ import annotations

from functools import cache

import numpy as np


@cache
def davis_palette() -> np.ndarray:
    """256 x 3 uint8 RGB palette; read-only."""
    palette = np.zeros((256, 3), dtype=np.uint8)
    for index in range(256):
        value, r, g, b = index, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= ((value >> 0) & 1) << shift
            g |= ((value >> 1) & 1) << shift
            b |= ((value >> 2) & 1) << shift
            value >>= 3
        palette[index] = (r, g, b)
    palette.setflags(write=False)
    return palette


def object_colour(object_id: int) -> tuple[int, int, int]:
    r, g, b = davis_palette()[object_id]
    return int(r), int(g), int(b)
