"""Parts of a mask that move with the background while the object moves on its own: what a
mask leaves behind on look-alike ground when the object goes away."""

from __future__ import annotations

import cv2
import numpy as np

from models.classic.motion import grid_samples

_STEP = 8  # working pixels between the flow samples the motions are fitted to


def _points(mask: np.ndarray, most: int) -> np.ndarray:
    """(n, 2) float32 x, y of up to `most` pixels of `mask` on a regular grid."""
    return np.stack(grid_samples(mask, most, _STEP), axis=1).astype(np.float32)


def background_motion(back: np.ndarray, objects: np.ndarray) -> np.ndarray | None:
    """The homography (3 x 3) from this frame to the last that the backward flow of the
    pixels away from every object follows (RANSAC), None when too few of them."""
    away = cv2.erode((~objects).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    src = _points(away, 1500)
    if len(src) < 20:
        return None
    dst = src + back[src[:, 1].astype(np.int64), src[:, 0].astype(np.int64)]
    homography, _ = cv2.findHomography(src, dst, cv2.RANSAC, 1.0)
    return homography


def own_motion(back: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """The affine map (2 x 3) that most of `mask`'s backward flow follows (RANSAC), None for
    a tiny mask."""
    inner = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    src = _points(inner, 600)
    if len(src) < 12:
        return None
    dst = src + back[src[:, 1].astype(np.int64), src[:, 0].astype(np.int64)]
    affine, _ = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=1.0)
    return affine


def motion_against(centre: np.ndarray, own: np.ndarray, scene: np.ndarray) -> np.ndarray:
    """Where the affine map `own` takes the point `centre` (x, y) less where the background's
    homography `scene` takes it: an object's motion against the background there."""
    point = np.asarray(centre, np.float32).reshape(1, 1, 2)
    there = cv2.perspectiveTransform(point, scene)[0, 0]
    return own[:, :2] @ point[0, 0] + own[:, 2] - there


def left_behind(back: np.ndarray, mask: np.ndarray, grid: np.ndarray,
                scene: np.ndarray, own: np.ndarray, apart: float = 2.0) -> np.ndarray:
    """The pixels of `mask` whose flow follows the background's motion `scene` (homography)
    clearly better than the object's own `own` (affine), where the two differ by at least
    `apart` pixels at the object's centre; none where they do not."""
    ys, xs = np.nonzero(mask)
    out = np.zeros(mask.shape, bool)
    if ys.size == 0:
        return out
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    points = grid[y0:y1, x0:x1].reshape(-1, 2)
    flow = back[y0:y1, x0:x1].reshape(-1, 2)
    there = cv2.perspectiveTransform(points[None], scene)[0]
    moved = points @ own[:, :2].T + own[:, 2]
    gap = np.linalg.norm(motion_against(np.array([xs.mean(), ys.mean()]), own, scene))
    if gap < apart:
        return out
    to_scene = np.linalg.norm(flow - (there - points), axis=1)
    to_own = np.linalg.norm(flow - (moved - points), axis=1)
    still = (to_scene < 0.25 * gap) & (to_own > 0.5 * gap)
    still = still.reshape(y1 - y0, x1 - x0).astype(np.uint8)
    still = cv2.morphologyEx(still, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    out[y0:y1, x0:x1] = still.astype(bool) & mask[y0:y1, x0:x1]
    return out
