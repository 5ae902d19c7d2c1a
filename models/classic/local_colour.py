"""Spatially-varying colour models: colour histograms of each class over windows of a coarse
grid of cells, so that background of the object's colours far from the object does not count
against it, and an object of several colours is judged by the colours near each pixel."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

LEVELS = 8  # per Lab channel
BINS = LEVELS**3
# OpenCV's 8-bit Lab: L spans 0..255, a and b seldom leave 64..192.
_A_B = np.clip((np.arange(256) - 64) // 16, 0, LEVELS - 1)
_LUT = [(np.arange(256) // 32) * LEVELS * LEVELS, _A_B * LEVELS, _A_B]


def colour_bins(lab: np.ndarray) -> np.ndarray:
    """(h, w) int32 colour bin of each pixel of an 8-bit Lab image (OpenCV's Lab)."""
    return (_LUT[0][lab[..., 0]] + _LUT[1][lab[..., 1]] + _LUT[2][lab[..., 2]]).astype(np.int32)


@dataclass(frozen=True)
class LocalColours:
    """(C, gh, gw, bins) counts of each class's colours in the window around every cell of a
    grid whose first cell starts at `origin` (x, y) of the frame."""

    counts: np.ndarray
    cell: int  # cell side in pixels
    origin: tuple[int, int]

    @classmethod
    def learn(cls, bins: np.ndarray, classes: np.ndarray, n: int, cell: int, window: int,
              box: tuple[int, int, int, int] | None = None) -> LocalColours:
        """Histograms of `bins` per class of `classes` (-1 leaves a pixel out), each cell's over
        the `window` x `window` cells around it; only inside `box` (x0, y0, x1, y1) if given."""
        h, w = classes.shape
        x0, y0, x1, y1 = box if box is not None else (0, 0, w, h)
        bins, classes = bins[y0:y1, x0:x1], classes[y0:y1, x0:x1]
        gh, gw = -(-(y1 - y0) // cell), -(-(x1 - x0) // cell)
        ys = np.arange(y1 - y0) // cell * gw
        xs = np.arange(x1 - x0) // cell
        where = (ys[:, None] + xs[None, :]) * BINS + bins
        size = gh * gw * BINS
        counts = np.empty((n, gh, gw, BINS), np.float32)
        for c in range(n):
            flat = np.bincount(where[classes == c], minlength=size).astype(np.float32)
            counts[c] = _window_sums(flat.reshape(gh, gw, BINS), window)
        return cls(counts, cell, (x0, y0))

    def log_posterior(self, bins: np.ndarray, x: np.ndarray, y: np.ndarray,
                      prior_count: float = 2.0, floor: float = -5.0, seen: float = 3.0,
                      ) -> np.ndarray:
        """(C, ...) log-probability of each class for pixels of colour `bins` at positions `x`,
        `y` of the frame these histograms were learnt in (float arrays of the shape of `bins`):
        each class's share of that colour in the window there, every class also credited
        `prior_count` pixels of it spread over the colours. The verdict is scaled towards
        none (all classes equal) where the colour was seldom seen there (`seen` pixels halve
        it) and outside the grid."""
        n, gh, gw, nb = self.counts.shape
        gx = (x - self.origin[0]) / self.cell
        gy = (y - self.origin[1]) / self.cell
        inside = (gx >= 0) & (gy >= 0) & (gx < gw) & (gy < gh)
        cells = np.clip(gy.astype(np.int32), 0, gh - 1) * gw + np.clip(gx.astype(np.int32), 0,
                                                                         gw - 1)
        index = cells * nb + bins
        totals = self.counts.sum(axis=3).reshape(n, -1)
        out = np.empty((n, *bins.shape), np.float32)
        count = np.zeros(bins.shape, np.float32)
        for c in range(n):
            colour = self.counts[c].reshape(-1)[index]
            count += colour
            # colour density of the class in this window, shrunk towards uniform
            out[c] = (colour + prior_count / nb) / (totals[c][cells] + prior_count)
        out /= out.sum(axis=0, keepdims=True)
        out = np.maximum(np.log(out), floor)
        out *= np.where(inside, count / (count + seen), 0.0)
        # normalised again: a colour never seen there gives every class an equal share
        return out - np.log(np.exp(out).sum(axis=0, keepdims=True))


def _window_sums(grid: np.ndarray, window: int) -> np.ndarray:
    """Sums over the `window` x `window` cells centred on each cell (zero outside) of a
    (gh, gw, bins) grid: one box filter down the rows, one down the columns."""
    gh, gw, nb = grid.shape
    rows = cv2.boxFilter(grid.reshape(gh, gw * nb), -1, (1, window), normalize=False,
                         borderType=cv2.BORDER_CONSTANT)
    turned = np.ascontiguousarray(rows.reshape(gh, gw, nb).transpose(1, 0, 2))
    cols = cv2.boxFilter(turned.reshape(gw, gh * nb), -1, (1, window), normalize=False,
                         borderType=cv2.BORDER_CONSTANT)
    return cols.reshape(gw, gh, nb).transpose(1, 0, 2)
