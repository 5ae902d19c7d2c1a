"""Colour models of objects and background: Lab histograms of the keyframes."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter

BITS = 4  # per Lab channel: 16 x 16 x 16 bins
BINS = 1 << (3 * BITS)


def colour_index(lab: np.ndarray) -> np.ndarray:
    """Quantised colour of each pixel of an 8-bit Lab image, as a histogram bin index."""
    shift = 8 - BITS
    q = (lab >> shift).astype(np.int32)
    return (q[..., 0] << (2 * BITS)) | (q[..., 1] << BITS) | q[..., 2]


def _histogram(index: np.ndarray) -> np.ndarray:
    """Normalised colour histogram, smoothed over neighbouring bins."""
    counts = np.bincount(index.ravel(), minlength=BINS).astype(np.float64)
    side = 1 << BITS
    counts = uniform_filter(counts.reshape(side, side, side), size=3, mode="nearest").ravel()
    total = counts.sum()
    return counts / total if total > 0 else np.full(BINS, 1.0 / BINS)


class ColourModel:
    """Per-class colour histograms (class 0 background) of the keyframes."""

    def __init__(self, n_classes: int) -> None:
        self.n_classes = n_classes
        self._key = np.full((n_classes, BINS), 1.0 / BINS)
        self._key_count = np.zeros(n_classes)

    def add_keyframe(self, index: np.ndarray, classes: np.ndarray) -> None:
        """Add a keyframe's pixels: `classes` holds 0..C-1, or -1 for pixels to leave out."""
        for c in range(self.n_classes):
            pixels = index[classes == c]
            if pixels.size == 0:
                continue
            hist = _histogram(pixels)
            n = self._key_count[c]
            self._key[c] = (self._key[c] * n + hist) / (n + 1) if n else hist
            self._key_count[c] = n + 1

    def keyframe_log_ratios(self, index: np.ndarray) -> np.ndarray:
        """(C, BINS) how much more likely each colour bin is under each class's keyframe
        colours (what the person drew, untouched by any drift of the pass) than under the
        rest: the other classes' keyframe colours and the colours of the whole frame `index`
        (a search over the whole frame meets colours the keyframes' surroundings never
        showed). Row 0, the background's, is left at zero; index a row with `index` for the
        ratio of each pixel."""
        scene = _histogram(index)
        out = np.zeros((self.n_classes, BINS), np.float32)
        for c in range(1, self.n_classes):
            rest = [k for k in range(self.n_classes) if k != c]
            others = np.maximum(self._key[rest].max(axis=0), scene)
            out[c] = np.log(self._key[c] + 1e-6) - np.log(others + 1e-6)
        return out
