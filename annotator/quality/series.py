"""Per-frame values drawn at a width of fewer pixels than frames: one point per pixel column,
the lowest of its frames (a bad frame is never averaged away). For the GUI's plot and the
report's alike."""

from __future__ import annotations

import numpy as np


def column_minimum(values: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """(frame position, value) of at most `columns` points: the lowest value in each run of
    frames that shares a column (NaN when all of them are NaN)."""
    count = values.size
    if count <= columns:
        return np.arange(count, dtype=float), values.astype(float)
    edges = np.linspace(0, count, columns + 1).astype(int)
    starts = edges[:-1]
    filled = np.where(np.isnan(values), np.inf, values)
    lowest = np.minimum.reduceat(filled, starts)
    lowest[np.isinf(lowest)] = np.nan
    return (starts + edges[1:] - 1) / 2, lowest
