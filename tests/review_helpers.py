"""Predictions made from DAVIS ground truth with known damage, for the review tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from annotator.formats.masks import read_label_map

SEQUENCE, FRAMES = "bear", 12
HALVED = (3, 7)  # the object's right half erased
SHIFTED, SHIFT = 5, 40  # the object moved right by SHIFT pixels
DAMAGED = {*HALVED, SHIFTED}


def truth(davis_root: Path, index: int) -> np.ndarray:
    return read_label_map(davis_root / "Annotations" / "480p" / SEQUENCE / f"{index:05d}.png")


def damage(labels: np.ndarray, index: int) -> np.ndarray:
    """The label map as a poor model would have it on the damaged frames."""
    out = labels.copy()
    if index in HALVED:
        xs = np.nonzero(labels == 1)[1]
        middle = int(np.median(xs))
        out[:, middle:][out[:, middle:] == 1] = 0
    elif index == SHIFTED:
        out[:] = 0
        out[:, SHIFT:] = labels[:, :-SHIFT]
    return out


def counted_iou(gt: np.ndarray, pred: np.ndarray) -> float:
    """IoU by counting pixels one by one in plain Python (independent of the metrics code)."""
    both = either = 0
    for g_row, p_row in zip(gt.tolist(), pred.tolist(), strict=True):
        for g, p in zip(g_row, p_row, strict=True):
            both += g and p
            either += g or p
    return both / either if either else 1.0
