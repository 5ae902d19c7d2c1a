"""What a propagation pass remembers of each object: its size and place, to find it again."""

from __future__ import annotations

import cv2
import numpy as np


def keep_connected(mask: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """The connected pieces of `mask` that touch `seed`."""
    count, parts = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if count <= 2:
        return mask if (mask & seed).any() else np.zeros_like(mask)
    touching = np.unique(parts[mask & seed])
    keep = np.zeros(count, bool)
    keep[touching] = True
    keep[0] = False
    return keep[parts]


class ObjectMemory:
    """Typical area and last bounding box of one object, and how long it has been missing.

    The typical area follows the object slowly and ignores sudden drops, so that an occluded
    object counts as missing instead of teaching the memory that it is small."""

    def __init__(self, lost_share: float = 0.3, min_log_ratio: float = 1.5, rate: float = 0.1):
        self.area = 0.0
        self.box: tuple[int, int, int, int] | None = None  # y0, x0, y1, x1
        self.frames_lost = 0
        self._lost_share = lost_share
        self._min_log_ratio = min_log_ratio
        self._rate = rate

    def observe(self, mask: np.ndarray, keyframe: bool = False) -> None:
        area = int(np.count_nonzero(mask))
        if keyframe:
            self.area = float(area)
        if area == 0 or self.lost(area):
            self.frames_lost += 1
            return
        ys = np.flatnonzero(mask.any(axis=1))
        xs = np.flatnonzero(mask.any(axis=0))
        self.box = (int(ys[0]), int(xs[0]), int(ys[-1]) + 1, int(xs[-1]) + 1)
        self.area = (1 - self._rate) * self.area + self._rate * area
        self.frames_lost = 0

    def lost(self, area: int) -> bool:
        """Whether an object that used to be there is mostly gone now."""
        return self.area > 0 and area < self._lost_share * self.area

    def search(self, log_ratio: np.ndarray, free: np.ndarray) -> np.ndarray | None:
        """A region near the last position whose colours favour the object, if one of a
        plausible size stands out; `log_ratio` is object vs best other class per pixel."""
        if self.box is None:
            return None
        h, w = log_ratio.shape
        y0, x0, y1, x1 = self.box
        grow = 0.5 + 0.25 * min(self.frames_lost, 8)
        dy, dx = int((y1 - y0) * grow) + 4, int((x1 - x0) * grow) + 4
        window = np.zeros((h, w), bool)
        window[max(y0 - dy, 0) : min(y1 + dy, h), max(x0 - dx, 0) : min(x1 + dx, w)] = True
        candidate = ((log_ratio > self._min_log_ratio) & free & window).astype(np.uint8)
        candidate = cv2.morphologyEx(candidate, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        count, parts, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
        if count <= 1:
            return None
        best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        area = stats[best, cv2.CC_STAT_AREA]
        if not self._lost_share * self.area <= area <= 2.0 * self.area:
            return None
        return parts == best
