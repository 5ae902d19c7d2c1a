"""A first click's starting regions: geodesic level sets around the click, each grown until
its outline lies on the strongest colour edges it can reach within a band of sizes."""

from __future__ import annotations

import cv2
import numpy as np


def edge_stopped_level(cost: np.ndarray, dist: np.ndarray, inside: np.ndarray,
                       band: tuple[float, float], steps: int = 12) -> np.ndarray:
    """The level set {dist <= t} within `inside` whose share of `inside` lies in `band` (low,
    high) and whose outline has the highest mean edge `cost` (ties: the larger)."""
    values = dist[inside]
    shares = np.geomspace(band[0], band[1], steps)
    best, best_contrast = None, -np.inf
    kernel = np.ones((3, 3), np.uint8)
    for limit in np.quantile(values, shares):
        level = ((dist <= limit) & inside).astype(np.uint8)
        outline = level.astype(bool) & ~cv2.erode(level, kernel).astype(bool)
        if not outline.any():
            continue
        contrast = float(cost[outline].mean())
        if contrast >= best_contrast:
            best, best_contrast = level.astype(bool), contrast
    return best if best is not None else (dist <= np.quantile(values, band[0])) & inside
