"""An object's own motion, fitted to the optical flow inside it."""

from __future__ import annotations

import cv2
import numpy as np

_GRID = 6  # working pixels between the flow samples the motion is fitted to


def grid_samples(mask: np.ndarray, most: int, step: int = _GRID) -> tuple[np.ndarray, np.ndarray]:
    """x, y of up to `most` pixels of `mask` on a regular grid of `step` pixels."""
    ys, xs = np.nonzero(mask[::step, ::step])
    if ys.size > most:
        keep = np.linspace(0, ys.size - 1, most).astype(np.int64)
        ys, xs = ys[keep], xs[keep]
    return xs * step, ys * step


def inner_motion(back: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """`object_motion` fitted well inside `mask`, away from its edge, where the flow blurs
    into the background's."""
    inner = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return object_motion(back, inner)


def object_motion(back: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """The affine map (2 x 3) from this frame to the last that best fits the backward flow of
    `mask`'s pixels (least squares on a grid of them), None for a tiny mask."""
    xs, ys = grid_samples(mask, 600)
    if xs.size < 6:
        return None
    design = np.stack([xs, ys, np.ones_like(xs)], axis=1).astype(np.float64)
    target = design[:, :2] + back[ys, xs]
    solution, *_ = np.linalg.lstsq(design, target, rcond=None)
    return solution.T
