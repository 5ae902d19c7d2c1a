"""Spatially-varying colour models: colour histograms of each class over windows of a coarse
grid of cells, so that background of the object's colours far from the object does not count
against it, and an object of several colours is judged by the colours near each pixel."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

LEVELS = 8  # per Lab channel
# OpenCV's 8-bit Lab: L spans 0..255, a and b seldom leave 64..192.
_LOW = np.array([0.0, 64.0, 64.0], np.float32)
_STEP = np.array([256.0, 128.0, 128.0], np.float32) / LEVELS


def colour_bins(rgb: np.ndarray) -> np.ndarray:
    """(h, w) int32 Lab colour bin of each pixel of an RGB uint8 image."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    q = np.clip(((lab - _LOW) / _STEP).astype(np.int32), 0, LEVELS - 1)
    return (q[..., 0] * LEVELS + q[..., 1]) * LEVELS + q[..., 2]


@dataclass(frozen=True)
class LocalColours:
    """(C, gh, gw, bins) counts of each class's colours in the window around every cell."""

    counts: np.ndarray
    cell: int  # cell side in pixels

    @classmethod
    def learn(
        cls, bins: np.ndarray, classes: np.ndarray, n: int, cell: int, window: int
    ) -> LocalColours:
        """Histograms of `bins` per class of `classes` (-1 leaves a pixel out), each cell's
        over the `window` x `window` cells around it."""
        h, w = classes.shape
        gh, gw = -(-h // cell), -(-w // cell)
        ys, xs = np.indices((h, w))
        where = ((ys // cell) * gw + xs // cell) * LEVELS**3 + bins
        size = gh * gw * LEVELS**3
        counts = np.empty((n, gh, gw, LEVELS**3), np.float32)
        for c in range(n):
            pick = classes == c
            flat = np.bincount(where[pick], minlength=size).astype(np.float32)
            counts[c] = _window_sums(flat.reshape(gh, gw, -1), window)
        return cls(counts, cell)

    def log_posterior(
        self,
        bins: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
        prior_count: float = 2.0,
        floor: float = -5.0,
    ) -> np.ndarray:
        """(C, h, w) log-probability of each class for pixels of colour `bins` at positions
        `x`, `y` of the frame these histograms were learnt in (any float arrays of the shape of
        `bins`): each class's share of that colour in the window there, every class also
        credited `prior_count` pixels of it spread over the colours, so that a colour seldom
        seen gives no verdict."""
        n, gh, gw, nb = self.counts.shape
        cy = np.clip((y / self.cell).astype(np.int32), 0, gh - 1)
        cx = np.clip((x / self.cell).astype(np.int32), 0, gw - 1)
        inside = (x >= 0) & (y >= 0) & (x < gw * self.cell) & (y < gh * self.cell)
        index = (cy * gw + cx) * nb + bins
        totals = self.counts.sum(axis=3).reshape(n, -1)
        cell_index = cy * gw + cx
        out = np.empty((n, *bins.shape), np.float32)
        for c in range(n):
            colour = self.counts[c].reshape(-1)[index]
            # colour density of the class in this window, shrunk towards uniform
            out[c] = (colour + prior_count / nb) / (totals[c][cell_index] + prior_count)
        out[:, ~inside] = 1.0
        out /= out.sum(axis=0, keepdims=True)
        return np.maximum(np.log(out), floor)


def _window_sums(grid: np.ndarray, window: int) -> np.ndarray:
    """Sums over the `window` x `window` cells centred on each cell (zero outside)."""
    half = window // 2
    gh, gw = grid.shape[:2]
    padded = np.zeros((gh + 2 * half, *grid.shape[1:]), np.float32)
    padded[half : half + gh] = grid
    rows = sum(padded[k : k + gh] for k in range(window))
    padded = np.zeros((gh, gw + 2 * half, *grid.shape[2:]), np.float32)
    padded[:, half : half + gw] = rows
    return sum(padded[:, k : k + gw] for k in range(window))
