"""Dense optical flow (OpenCV DIS) between consecutive frames."""

from __future__ import annotations

import cv2
import numpy as np


class FlowEstimator:
    """Backward flow between two grey frames."""

    def __init__(self, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> None:
        self._dis = cv2.DISOpticalFlow_create(preset)

    def backward(self, current: np.ndarray, previous: np.ndarray) -> np.ndarray:
        """(h, w, 2) flow from `current` to `previous`: where each current pixel came from."""
        return self._dis.calc(current, previous, None)
