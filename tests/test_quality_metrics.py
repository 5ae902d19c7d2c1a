"""J and F against hand-computed cases and an independent slow reference on real DAVIS masks."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from scipy.ndimage import distance_transform_edt

from annotator.formats.masks import read_label_map
from annotator.quality.metrics import boundary_f, boundary_tolerance, frame_scores, jaccard
from annotator.quality.statistics import summarise, variation


def square(shape=(100, 100), top=10, left=10, size=20) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[top : top + size, left : left + size] = True
    return mask


def test_shifted_square_exact_j_and_f():
    gt = square()
    pred = square(left=15)
    # 15 x 20 overlap; union 400 + 400 - 300.
    assert jaccard(gt, pred) == pytest.approx(300 / 500)
    # 100 x 100 image: tolerance ceil(0.008 * 141.4) = 2 px. Both boundaries are 21 x 21 rings
    # (80 px); 40 px of each lie within 2 px of the other: 18 + 18 on the top and bottom rows,
    # 2 + 2 on the near side column. Precision = recall = 0.5.
    assert boundary_tolerance(gt.shape) == 2
    assert boundary_f(gt, pred) == pytest.approx(0.5)


def test_empty_prediction_and_empty_both():
    gt = square()
    empty = np.zeros_like(gt)
    assert jaccard(gt, empty) == 0.0
    assert boundary_f(gt, empty) == 0.0
    assert jaccard(empty, empty) == 1.0
    assert boundary_f(empty, empty) == 1.0
    assert boundary_f(empty, gt) == 0.0


def test_void_pixels_are_ignored():
    gt = square()
    pred = gt.copy()
    pred[40:60, 10:30] = True  # spills into a region that the ground truth marks void
    void = np.zeros_like(gt)
    void[40:60, :] = True
    assert jaccard(gt, pred) < 1.0
    assert jaccard(gt, pred, void) == 1.0
    assert boundary_f(gt, pred, void) == 1.0
    labels = gt.astype(np.uint8)
    labels[void] = 255
    j, f = frame_scores(labels, pred.astype(np.uint8), [1])
    assert (j[0], f[0]) == (1.0, 1.0)


def _slow_boundary(mask: np.ndarray) -> np.ndarray:
    """seg2bmap from its definition, pixel by pixel: a pixel is on the boundary when it differs
    from its east, south or south-east neighbour (last row and column: east resp. south only)."""
    h, w = mask.shape
    out = np.zeros((h, w), bool)
    ys, xs = np.nonzero(cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)))
    for y, x in zip(ys.tolist(), xs.tolist(), strict=True):
        v = mask[y, x]
        if y == h - 1 and x == w - 1:
            continue
        if y == h - 1:
            out[y, x] = v != mask[y, x + 1]
        elif x == w - 1:
            out[y, x] = v != mask[y + 1, x]
        else:
            out[y, x] = v != mask[y, x + 1] or v != mask[y + 1, x] or v != mask[y + 1, x + 1]
    return out


def _slow_f(gt: np.ndarray, pred: np.ndarray) -> float:
    radius = math.ceil(0.008 * math.hypot(*gt.shape))
    bg, bp = _slow_boundary(gt), _slow_boundary(pred)
    near_g = distance_transform_edt(~bg) <= radius
    near_p = distance_transform_edt(~bp) <= radius
    precision = (bp & near_g).sum() / bp.sum()
    recall = (bg & near_p).sum() / bg.sum()
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


@pytest.mark.parametrize(("frame", "grow", "shift"), [(10, 3, 0), (40, 0, 12), (77, 6, 5)])
def test_real_masks_against_direct_count_and_slow_reference(davis_root, frame, grow, shift):
    gt = read_label_map(davis_root / "Annotations" / "480p" / "bear" / f"{frame:05d}.png") == 1
    pred = gt.astype(np.uint8)
    if grow:
        pred = cv2.dilate(pred, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    pred = np.roll(pred, shift, axis=1).astype(bool)
    expected_j = np.count_nonzero(gt & pred) / np.count_nonzero(gt | pred)
    assert jaccard(gt, pred) == pytest.approx(expected_j)
    assert 0.3 < expected_j < 0.99
    expected_f = _slow_f(gt, pred)
    assert boundary_f(gt, pred) == pytest.approx(expected_f, abs=1e-12)
    assert 0.05 < expected_f < 0.99


def test_summary_recall_decay_and_v():
    values = np.array([1.0, 1.0, 0.9, 0.8, 0.6, 0.4, 0.4, 0.2, 0.2])
    s = summarise(values)
    assert s.mean == pytest.approx(values.mean())
    assert s.recall == pytest.approx(5 / 9)
    # Quarter bounds for 9 frames: indices 0, 2, 4, 6, 8 -> first [0..2], last [6..8].
    assert s.decay == pytest.approx(np.mean([1.0, 1.0, 0.9]) - np.mean([0.4, 0.2, 0.2]))
    j = np.array([0.4, 0.8, 0.4, 0.8])
    f = np.array([0.6, 0.6, 0.6, 0.6])
    assert variation(j, f) == pytest.approx(0.1)  # (J+F)/2 alternates 0.5, 0.7
