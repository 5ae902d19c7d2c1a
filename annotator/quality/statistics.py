"""Per-object summaries of per-frame scores: mean, recall, decay (DAVIS) and V (LVOS)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RECALL_THRESHOLD = 0.5
DECAY_BINS = 4


@dataclass(frozen=True)
class Summary:
    """Mean, recall (share of frames above 0.5) and decay (first quarter minus last)."""

    mean: float
    recall: float
    decay: float


def summarise(values: np.ndarray) -> Summary:
    """DAVIS statistics of one object's per-frame scores (NaN frames are skipped)."""
    values = np.asarray(values, dtype=float).ravel()
    if values.size == 0:
        return Summary(math.nan, math.nan, math.nan)
    mean = float(np.nanmean(values))
    recall = float(np.nanmean(values > RECALL_THRESHOLD))
    # Four overlapping quarters, bounds rounded as the DAVIS toolkit rounds them.
    bounds = np.round(np.linspace(1, values.size, DECAY_BINS + 1) + 1e-10).astype(int) - 1
    first = values[bounds[0] : bounds[1] + 1]
    last = values[bounds[DECAY_BINS - 1] : bounds[DECAY_BINS] + 1]
    decay = float(np.nanmean(first) - np.nanmean(last))
    return Summary(mean, recall, decay)


def variation(j_values: np.ndarray, f_values: np.ndarray) -> float:
    """LVOS V: standard deviation of per-frame (J + F) / 2 over the same scored frames.

    The LVOS toolkit divides the squared deviations by the number of frames and rounds that
    variance to four decimals before the square root; this does the same.
    """
    jf = (np.asarray(j_values, dtype=float).ravel() + np.asarray(f_values, dtype=float).ravel()) / 2
    if jf.size == 0:
        return math.nan
    variance = float(np.nansum((np.nanmean(jf) - jf) ** 2)) / jf.size
    return math.sqrt(round(variance, 4))
