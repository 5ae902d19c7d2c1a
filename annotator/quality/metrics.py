"""Per-frame region (J) and boundary (F) measures, as the DAVIS and LVOS toolkits define them."""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

BOUNDARY_FRACTION = 0.008  # of the image diagonal: the DAVIS matching tolerance


def _without_void(
    gt: np.ndarray, pred: np.ndarray, void: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Both masks as booleans with the void pixels cleared."""
    gt = gt.astype(bool)
    pred = pred.astype(bool)
    if void is not None:
        keep = ~void.astype(bool)
        gt = gt & keep
        pred = pred & keep
    return gt, pred


def jaccard(gt: np.ndarray, pred: np.ndarray, void: np.ndarray | None = None) -> float:
    """Intersection over union of two boolean masks, void pixels left out; empty union = 1."""
    gt, pred = _without_void(gt, pred, void)
    union = np.count_nonzero(gt | pred)
    if union == 0:
        return 1.0
    return np.count_nonzero(gt & pred) / union


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """One-pixel boundaries of a mask, offset half a pixel towards the origin (seg2bmap)."""
    seg: np.ndarray = mask.astype(bool)
    east = np.zeros_like(seg)
    south = np.zeros_like(seg)
    south_east = np.zeros_like(seg)
    east[:, :-1] = seg[:, 1:]
    south[:-1, :] = seg[1:, :]
    south_east[:-1, :-1] = seg[1:, 1:]
    edges: np.ndarray = (seg ^ east) | (seg ^ south) | (seg ^ south_east)
    edges[-1, :] = seg[-1, :] ^ east[-1, :]
    edges[:, -1] = seg[:, -1] ^ south[:, -1]
    edges[-1, -1] = False
    return edges


def boundary_tolerance(shape: tuple[int, int]) -> int:
    """Matching distance in pixels: ceil(0.008 x the image diagonal)."""
    return math.ceil(BOUNDARY_FRACTION * math.hypot(shape[0], shape[1]))


@lru_cache(maxsize=8)
def _disk(radius: int) -> np.ndarray:
    """Pixels within `radius` of the centre (x^2 + y^2 <= r^2), as a dilation kernel."""
    offsets = np.arange(-radius, radius + 1)
    return (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius**2).astype(np.uint8)


def boundary_f(gt: np.ndarray, pred: np.ndarray, void: np.ndarray | None = None) -> float:
    """DAVIS boundary F-measure: boundary precision and recall within the disk tolerance."""
    gt, pred = _without_void(gt, pred, void)
    gt_edges = boundary_map(gt)
    pred_edges = boundary_map(pred)
    n_gt = int(np.count_nonzero(gt_edges))
    n_pred = int(np.count_nonzero(pred_edges))
    if n_gt == 0 and n_pred == 0:
        return 1.0
    if n_gt == 0 or n_pred == 0:
        return 0.0  # precision or recall is 0, so F is 0
    kernel = _disk(boundary_tolerance(gt.shape))
    rows, cols = _crop_window(gt_edges | pred_edges, kernel.shape[0] // 2)
    gt_edges = gt_edges[rows, cols]
    pred_edges = pred_edges[rows, cols]
    gt_near = cv2.dilate(gt_edges.view(np.uint8), kernel).astype(bool)
    pred_near = cv2.dilate(pred_edges.view(np.uint8), kernel).astype(bool)
    precision = np.count_nonzero(pred_edges & gt_near) / n_pred
    recall = np.count_nonzero(gt_edges & pred_near) / n_gt
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _crop_window(edges: np.ndarray, margin: int) -> tuple[slice, slice]:
    """The bounding box of all edge pixels grown by `margin` (dilation never reaches further)."""
    ys = np.flatnonzero(edges.any(axis=1))
    xs = np.flatnonzero(edges.any(axis=0))
    h, w = edges.shape
    return (
        slice(max(ys[0] - margin, 0), min(ys[-1] + margin + 1, h)),
        slice(max(xs[0] - margin, 0), min(xs[-1] + margin + 1, w)),
    )


def frame_scores(
    gt_labels: np.ndarray, pred_labels: np.ndarray, object_ids: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """J and F of each object in one frame of label maps; GT value 255 is void."""
    void = gt_labels == 255
    has_void = bool(void.any())
    j = np.empty(len(object_ids))
    f = np.empty(len(object_ids))
    for k, obj in enumerate(object_ids):
        gt = gt_labels == obj
        pred = pred_labels == obj
        j[k] = jaccard(gt, pred, void if has_void else None)
        f[k] = boundary_f(gt, pred, void if has_void else None)
    return j, f
