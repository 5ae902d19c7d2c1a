"""Dense optical flow (OpenCV DIS) with forward-backward consistency, and warping by it."""

from __future__ import annotations

import cv2
import numpy as np


class FlowEstimator:
    """Backward flow between two grey frames plus a per-pixel reliability in [0, 1]."""

    def __init__(self, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, tolerance: float = 1.0):
        self._dis = cv2.DISOpticalFlow_create(preset)
        # The forward flow only checks the backward one: a cheaper setting does.
        self._check = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self._tolerance = tolerance  # pixels of forward-backward disagreement that halve trust

    def backward(self, current: np.ndarray, previous: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flow from `current` to `previous` (where each current pixel came from) and how far
        the forward flow agrees with it: 1 consistent, towards 0 occluded or unreliable."""
        back = self._dis.calc(current, previous, None)
        forward = self._check.calc(previous, current, None)
        forward_at_source = warp(forward, back, border=cv2.BORDER_REPLICATE)
        error = np.linalg.norm(back + forward_at_source, axis=2)
        magnitude = np.linalg.norm(back, axis=2)
        allowed = self._tolerance + 0.05 * magnitude
        reliability = 1.0 / (1.0 + (error / allowed) ** 2)
        return back, reliability.astype(np.float32)


def sampling_map(flow: np.ndarray) -> np.ndarray:
    """Absolute sampling coordinates (x + u, y + v) for cv2.remap."""
    h, w = flow.shape[:2]
    grid = np.empty((h, w, 2), np.float32)
    grid[..., 0] = np.arange(w, dtype=np.float32)[None, :]
    grid[..., 1] = np.arange(h, dtype=np.float32)[:, None]
    return grid + flow


def warp(image: np.ndarray, flow: np.ndarray, border: int = cv2.BORDER_CONSTANT) -> np.ndarray:
    """Sample `image` at x + flow(x) (backward warping), bilinear."""
    return cv2.remap(image, sampling_map(flow), None, cv2.INTER_LINEAR, borderMode=border)
