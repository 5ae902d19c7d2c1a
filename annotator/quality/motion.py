"""How the picture moves between two frames, as far as the flags need it: dense optical flow
(OpenCV's DIS, on small grey copies so that its cost per frame stays flat) and the median
motion of the pixels of a mask."""

from __future__ import annotations

import cv2
import numpy as np

FLOW_WIDTH = 320  # frames are scaled down to this width for the flow


def small_grey(frame: np.ndarray) -> np.ndarray:
    """An RGB frame as grey, scaled down to at most FLOW_WIDTH pixels wide."""
    grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    height, width = grey.shape
    if width <= FLOW_WIDTH:
        return grey
    size = (FLOW_WIDTH, max(1, round(height * FLOW_WIDTH / width)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


class Motion:
    """Optical flow from one small grey frame to the next (one DIS instance, reused)."""

    def __init__(self) -> None:
        self._dis = cv2.DISOpticalFlow_create(  # type: ignore[attr-defined]  # not in the stubs
            cv2.DISOPTICAL_FLOW_PRESET_FAST)

    def flow(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        """h x w x 2 float32: where each pixel of `before` moved, in small-frame pixels."""
        flow: np.ndarray = self._dis.calc(before, after, None)
        return flow


def median_motion(flow: np.ndarray, mask: np.ndarray) -> tuple[float, float] | None:
    """The median (dx, dy) of `flow` over a full-size bool `mask`, in full-size pixels; None
    when the mask keeps no pixel at the flow's scale."""
    height, width = mask.shape
    small_h, small_w = flow.shape[:2]
    small = cv2.resize(mask.view(np.uint8), (small_w, small_h),
                       interpolation=cv2.INTER_NEAREST).astype(bool)
    if not small.any():
        return None
    dx = float(np.median(flow[..., 0][small])) * width / small_w
    dy = float(np.median(flow[..., 1][small])) * height / small_h
    return dx, dy
