"""Geodesic distance on an image: path length where crossing a colour edge costs more."""

from __future__ import annotations

import cv2
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra


def edge_strength(lab: np.ndarray) -> np.ndarray:
    """Colour gradient magnitude of a float Lab image (H, W, 3), scaled to median 1."""
    gx = cv2.Sobel(lab, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lab, cv2.CV_32F, 0, 1, ksize=3)
    grad = np.sqrt((gx**2 + gy**2).sum(axis=2))
    return grad / max(float(np.median(grad)), 1e-3)


def geodesic_distance(cost: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Shortest 8-connected path length from any True pixel of `seeds`; a step between two
    pixels costs its length times 1 + the mean of their `cost` values."""
    h, w = cost.shape
    index = np.arange(h * w).reshape(h, w)
    rows, cols, weights = [], [], []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        if dx >= 0:
            a, b = index[: h - dy, : w - dx], index[dy:, dx:]
        else:
            a, b = index[: h - dy, -dx:], index[dy:, : w + dx]
        step = float(np.hypot(dy, dx))
        ca = cost.reshape(-1)[a.reshape(-1)]
        cb = cost.reshape(-1)[b.reshape(-1)]
        rows.append(a.reshape(-1))
        cols.append(b.reshape(-1))
        weights.append(step * (1.0 + 0.5 * (ca + cb)))
    graph = coo_matrix(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(h * w,) * 2
    ).tocsr()
    sources = np.flatnonzero(seeds.reshape(-1))
    dist = dijkstra(graph, directed=False, indices=sources, min_only=True)
    return dist.reshape(h, w).astype(np.float32)


def coarse_geodesic(cost: np.ndarray, seeds: np.ndarray, scale: float) -> np.ndarray:
    """`geodesic_distance` on the grid of `seeds`, `scale` times as fine as `cost`'s (which is
    averaged down to it), brought back to `cost`'s grid; infinite everywhere without seeds."""
    h, w = cost.shape
    if not seeds.any():
        return np.full((h, w), np.inf, np.float32)
    coarse = cv2.resize(cost, (seeds.shape[1], seeds.shape[0]), interpolation=cv2.INTER_AREA)
    dist = geodesic_distance(coarse, seeds) / scale
    return cv2.resize(dist, (w, h), interpolation=cv2.INTER_LINEAR)
