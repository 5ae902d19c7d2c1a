"""The checks without ground truth on made-up footage whose answers are known: a textured
picture sliding 3 px a frame with an object that follows it, then the object lost for a frame,
split in two, jumping against the motion, overlapping another in the source, and doubted by
the engine."""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np
import pytest

from annotator.engine.qa import check_frames
from annotator.quality.flags import FlagKind, FlagRules

H, W, STEP, COUNT = 240, 320, 3, 12
LOST, SPLIT, JUMPED = 4, 7, 10


def picture(index: int) -> np.ndarray:
    """A smooth random texture moved right by STEP px a frame (an RGB frame)."""
    rng = np.random.default_rng(5)
    noise = cv2.GaussianBlur(rng.random((H, W + STEP * COUNT)).astype(np.float32), (0, 0), 3)
    shift = STEP * (COUNT - index)
    grey = cv2.normalize(noise[:, shift:shift + W], None, 0, 255, cv2.NORM_MINMAX)
    return np.repeat(grey.astype(np.uint8)[:, :, None], 3, axis=2)


class Clip:
    """The object: a 60 x 60 square moving with the picture, with the planted troubles."""

    frame_names: ClassVar[list[str]] = [f"{i:05d}" for i in range(COUNT)]

    def label_map(self, index: int) -> np.ndarray:
        labels = np.zeros((H, W), np.uint8)
        x = 100 + STEP * index + (45 if index == JUMPED else 0)
        if index != LOST:
            labels[90:150, x:x + 60] = 1
        if index == SPLIT:
            labels[90:150, x + 25:x + 35] = 0  # a gap: two pieces
        labels[20:50, 20:60] = 2  # a second object, still
        return labels


def test_each_planted_trouble_is_flagged_with_its_frame_and_reason():
    frames = [picture(i) for i in range(COUNT)]
    confidence = {6: {1: 0.3, 2: 0.9}}
    overlaps = {8: {(1, 2): 500}}
    signals = check_frames(Clip(), frames, range(COUNT),
                           confidence=lambda i: confidence.get(i, {}),
                           overlaps=lambda i: overlaps.get(i, {}))
    found = {(f.index, f.object_id, f.kind) for s in signals for f in s.flags}
    assert found == {
        (LOST, 1, FlagKind.LOST),  # its return on the next frame is no new trouble
        (6, 1, FlagKind.LOW_CONFIDENCE),
        (SPLIT, 1, FlagKind.FRAGMENTS),
        (8, 1, FlagKind.OVERLAP),
        (JUMPED, 1, FlagKind.JUMP),  # and the frame after it is back where it should be
    }
    jump = next(f for s in signals for f in s.flags if f.kind is FlagKind.JUMP)
    assert jump.text.startswith("jump: centre 4") and "allowed" in jump.text  # 45 px vs 9
    assert signals[LOST].objects[1].iou_previous == 0.0
    assert signals[LOST + 1].objects[1].back and signals[JUMPED + 1].objects[1].back
    # the sound frames score high, the flagged ones low; a frame back in place ranks as sound
    # though its IoU with the odd frame before is low
    assert signals[2].score > 0.85 and signals[JUMPED].score < 0.5
    assert signals[JUMPED + 1].objects[1].iou_previous < 0.2
    assert signals[JUMPED + 1].score == pytest.approx(1.0)
    # without pictures there is no motion to compare with: no jump flag, the rest as before
    still = check_frames(Clip(), None, range(COUNT))
    assert {(f.index, f.kind) for s in still for f in s.flags} == {
        (LOST, FlagKind.LOST), (SPLIT, FlagKind.FRAGMENTS)}
    # stricter rules flag more; a frame is checked again alone with the same result
    again = check_frames(Clip(), frames, [JUMPED])
    assert [f.kind for f in again[0].flags] == [FlagKind.JUMP]
    strict = check_frames(Clip(), frames, range(COUNT), lambda i: confidence.get(i, {}),
                          rules=FlagRules(low_confidence=0.95))
    assert (6, 2, FlagKind.LOW_CONFIDENCE) in {(f.index, f.object_id, f.kind)
                                               for s in strict for f in s.flags}
