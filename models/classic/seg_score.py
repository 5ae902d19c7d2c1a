"""The classic segmenter's predicted IoU: a logistic function of what can be seen of a candidate
mask without the truth (how its outline follows image edges, how its colours differ from those
around it, its size, shape and place, what the prompt said and whether the other candidates
agree). The weights were fitted on the first frames of davis16-tune (see
`benchmarks/fit_click_scores.py`)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

FEATURES = (
    "contrast",  # log of the mean gradient on the outline over the frame's mean gradient
    "separation",  # 1 - overlap of the colour histograms inside and in a ring around it
    "log_area",  # log of the share of the frame it covers
    "framed",  # share of its outline on the frame's edge
    "compact",  # 4 pi area / perimeter^2
    "box_fill",  # share of the box it fills (1 without a box)
    "has_box",  # 1 with a box
    "log_clicks",  # log(1 + number of clicks)
    "agreement",  # mean IoU with the other candidates of the prompt (1 when alone)
)

# fitted on davis16-tune first frames (benchmarks/fit_click_scores.py, 160 candidates):
# intercept first, then one weight per feature
WEIGHTS = np.array([-4.232, 0.654, 1.096, -0.309, -0.020, -0.566, 0.646, 1.479, 0.584, 1.058])


def candidate_features(frame: np.ndarray, mask: np.ndarray, clicks: int,
                       box: np.ndarray | None, others: Sequence[np.ndarray]) -> np.ndarray:
    """(len(FEATURES),) features of a candidate `mask` of an RGB `frame`."""
    h, w = mask.shape
    area = int(np.count_nonzero(mask))
    if area == 0 or area == mask.size:
        return np.zeros(len(FEATURES))
    m = mask.astype(np.uint8)
    outline = cv2.morphologyEx(m, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(bool)
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grad = cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    contrast = np.log(max(float(grad[outline].mean()), 1e-3) / max(float(grad.mean()), 1e-3))
    edge = np.zeros((h, w), bool)
    edge[[0, -1], :] = True
    edge[:, [0, -1]] = True
    contour, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contour)
    compact = min(1.0, 4 * np.pi * area / max(perimeter, 1.0) ** 2)
    fill = 1.0
    if box is not None:
        x0, y0, x1, y1 = box
        fill = area / max(1.0, (x1 - x0 + 1) * (y1 - y0 + 1))
    agreement = (np.mean([_iou(mask, other) for other in others]) if len(others) else 1.0)
    return np.array([
        contrast,
        _separation(frame, mask),
        np.log(area / mask.size),
        np.count_nonzero(outline & edge) / max(1, np.count_nonzero(outline)),
        compact,
        min(fill, 1.0),
        float(box is not None),
        np.log1p(clicks),
        agreement,
    ])


def predicted_iou(features: np.ndarray) -> float:
    """The predicted IoU (0..1) of a candidate with these features (all zero: 0)."""
    if not np.any(features):
        return 0.0
    z = WEIGHTS[0] + float(WEIGHTS[1:] @ features)
    return float(1.0 / (1.0 + np.exp(-z)))


def colour_bins(frame: np.ndarray) -> np.ndarray:
    """Each pixel's bin of 512 coarse RGB colours (8 levels a channel) of a uint8 frame."""
    q = (frame >> 5).astype(np.int32)
    return (q[..., 0] << 6) | (q[..., 1] << 3) | q[..., 2]


def _separation(frame: np.ndarray, mask: np.ndarray) -> float:
    """1 - the overlap (Bhattacharyya coefficient) of the coarse colour histograms of the mask
    and of a ring around it as wide as a fifth of its size."""
    reach = max(3.0, 0.2 * np.sqrt(np.count_nonzero(mask)))
    ring = (cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3) <= reach) & ~mask
    if not ring.any():
        return 0.0
    index = colour_bins(frame)
    inside = np.bincount(index[mask], minlength=512).astype(np.float64)
    around = np.bincount(index[ring], minlength=512).astype(np.float64)
    return float(1.0 - np.sqrt(inside / inside.sum() * around / around.sum()).sum())


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 1.0
