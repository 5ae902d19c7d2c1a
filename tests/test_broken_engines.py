"""The quality checks of the weights-free engines, on real dev frames, and proof that each check
rejects a broken engine: a propagator that copies the first mask, a segmenter that returns the
whole frame, a confidence that is constant."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

from annotator.engine.click_protocol import bounding_box, iou, next_click
from annotator.formats.masks import read_label_map
from annotator.quality.metrics import jaccard
from models.classic.propagator import ClassicPropagator
from models.classic.segmenter import ClassicSegmenter
from models.protocols import ClickPrediction, PropagatedFrame, Propagator, ShouldStop


def _clip(root: Path, name: str, count: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    paths = sorted((root / "JPEGImages/480p" / name).glob("*.jpg"))[:count]
    frames = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in paths]
    masks = [read_label_map(root / "Annotations/480p" / name / f"{p.stem}.png") for p in paths]
    return frames, masks


# the broken engines


class CopyFirstMask:
    """A propagator that repeats the keyframe's mask on every frame."""

    name = "copy the first mask"

    def propagate(self, frames: Sequence[np.ndarray], keyframes: Mapping[int, np.ndarray],
                  targets: Sequence[int], should_stop: ShouldStop | None = None,
                  ) -> Iterator[PropagatedFrame]:
        first = next(iter(keyframes.values()))
        for index in targets:
            yield PropagatedFrame(index, first.copy(), {1: 0.8})


class ConstantConfidence(CopyFirstMask):
    """A propagator whose confidence is the same on every frame."""


class WholeFrame:
    """A segmenter whose only candidate is the whole frame, with full confidence."""

    def set_image(self, frame: np.ndarray) -> None:
        self.shape = frame.shape[:2]

    def predict(self, points: np.ndarray, labels: np.ndarray, box: np.ndarray | None = None,
                prior: np.ndarray | None = None, multimask: bool = True) -> ClickPrediction:
        return ClickPrediction(np.ones((1, *self.shape), bool), np.ones(1, np.float32),
                               np.zeros((1, 256, 256), np.float32))


# the checks


def check_propagation(engine: Propagator, root: Path) -> None:
    """Mean J from the first mask over 20 frames of boat (the boat sails across the frame and
    the camera pans: copying the first mask scores about 0.58 there) must reach 0.75."""
    frames, masks = _clip(root, "boat", 21)
    out = {f.index: f.labels for f in engine.propagate(frames, {0: masks[0]}, range(1, 21))}
    j = np.mean([jaccard(masks[i] == 1, out[i] == 1) for i in range(1, 21)])
    assert j >= 0.75, f"mean J {j:.3f}"


def check_confidence(engine: Propagator, root: Path) -> None:
    """A clip that cuts from bear to hike after eight frames: the bear is gone, so every mask
    after the cut is wrong. The confidence must fall within two frames of the cut, below every
    confidence given before it, and stay lower."""
    bear, bear_masks = _clip(root, "bear", 9)
    hike, _ = _clip(root, "hike", 10)
    frames = bear + hike
    conf = {f.index: f.confidence[1] for f in engine.propagate(frames, {0: bear_masks[0]},
                                                               range(1, len(frames)))}
    before = [conf[i] for i in range(1, 9)]
    after = [conf[i] for i in range(9, len(frames))]
    assert max(after[2:]) < min(before), (before, after)
    assert np.mean(after) < np.mean(before) - 0.2, (before, after)


def check_segmenter(segmenter: object, root: Path) -> None:
    """On the first frames of rhino and soccerball: one click at the object's centre gives a
    best candidate of IoU >= 0.6 with no candidate empty or covering half the frame; a box
    alone gives IoU >= 0.75, nothing outside it; the candidates' order follows their IoU."""
    for name in ("rhino", "soccerball"):
        frames, masks = _clip(root, name, 1)
        frame, truth = frames[0], masks[0] == 1
        segmenter.set_image(frame)
        x, y, _ = next_click(np.zeros_like(truth), truth)
        prediction = segmenter.predict(np.array([[x, y]]), np.array([1]))
        cands, scores = prediction.masks, prediction.scores
        ious = [iou(m, truth) for m in cands]
        assert ious[int(np.argmax(scores))] >= 0.6, (name, ious, scores)
        assert all(0 < m.sum() < 0.5 * m.size for m in cands), name
        box = np.array(bounding_box(truth), np.float32)
        cands = segmenter.predict(np.zeros((0, 2)), np.zeros(0), box=box).masks
        assert iou(cands[0], truth) >= 0.75, name
        inside = np.zeros_like(truth)
        inside[int(box[1]) : int(box[3]) + 1, int(box[0]) : int(box[2]) + 1] = True
        assert not (cands[0] & ~inside).any(), name


# each check passes the real engine and rejects the broken one


def test_classic_propagator_passes_the_propagation_check(davis_root):
    check_propagation(ClassicPropagator(), davis_root)


def test_a_propagator_that_copies_the_first_mask_fails_it(davis_root):
    with pytest.raises(AssertionError, match="mean J"):
        check_propagation(CopyFirstMask(), davis_root)


def test_classic_confidence_passes_the_confidence_check(davis_root):
    check_confidence(ClassicPropagator(), davis_root)


def test_a_constant_confidence_fails_it(davis_root):
    with pytest.raises(AssertionError):
        check_confidence(ConstantConfidence(), davis_root)


def test_classic_segmenter_passes_the_segmenter_check(davis_root):
    check_segmenter(ClassicSegmenter(), davis_root)


def test_a_segmenter_that_returns_the_whole_frame_fails_it(davis_root):
    with pytest.raises(AssertionError):
        check_segmenter(WholeFrame(), davis_root)
