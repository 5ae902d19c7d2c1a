"""The weights-free propagator on real DAVIS frames: quality, several objects, cancel, protocol,
re-appearance after an occlusion."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from propagation_helpers import pairs

from annotator.formats.masks import read_label_map
from annotator.quality.flags import FlagRules
from annotator.quality.metrics import jaccard
from models.classic.propagator import ClassicPropagator
from models.protocols import Propagator


class RecordingFrames:
    """A frame sequence over JPEG files that remembers which frames were read."""

    def __init__(self, folder: Path, count: int) -> None:
        self.paths = sorted(folder.glob("*.jpg"))[:count]
        self.read: list[int] = []

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> np.ndarray:
        self.read.append(index)
        return cv2.cvtColor(cv2.imread(str(self.paths[index])), cv2.COLOR_BGR2RGB)


def _sequence(root: Path, name: str, count: int) -> tuple[RecordingFrames, list[np.ndarray]]:
    frames = RecordingFrames(root / "JPEGImages" / "480p" / name, count)
    masks = [read_label_map(root / "Annotations" / "480p" / name / f"{p.stem}.png")
             for p in frames.paths]
    return frames, masks


def _mean_j(gts: list[np.ndarray], preds: dict[int, np.ndarray], indices) -> float:
    return float(np.mean([jaccard(gts[i] == 1, preds[i] == 1) for i in indices]))


def test_implements_the_propagator_protocol():
    propagator = ClassicPropagator()
    assert isinstance(propagator, Propagator)
    assert propagator.name == "classic"


@pytest.mark.parametrize(("name", "count"), [("boat", 25), ("mallard-water", 25)])
def test_forward_propagation_beats_copying_the_first_mask(davis_root, name, count):
    frames, gts = _sequence(davis_root, name, count)
    targets = range(1, count)
    preds = dict(pairs(ClassicPropagator().propagate(frames, {0: gts[0]}, targets)))
    assert list(preds) == list(targets)
    copied = {i: gts[0] for i in targets}
    j_copy = _mean_j(gts, copied, targets)
    j = _mean_j(gts, preds, targets)
    # Copying scores about 0.54 (boat) and 0.52 (mallard-water) on these frames; the
    # propagator about 0.80 and 0.88.
    assert j_copy < 0.6
    assert j > 0.75
    assert sorted(set(frames.read)) == list(range(count))  # nothing beyond the pass is read


def test_backward_pass_from_a_later_keyframe(davis_root):
    frames, gts = _sequence(davis_root, "boat", 16)
    targets = list(range(14, -1, -1))
    preds = dict(pairs(ClassicPropagator().propagate(frames, {15: gts[15]}, targets)))
    assert list(preds) == targets
    j = _mean_j(gts, preds, targets)
    j_copy = _mean_j(gts, {i: gts[15] for i in targets}, targets)
    # Copying the keyframe scores about 0.64 here; the propagator about 0.79.
    assert j > 0.75
    assert j > j_copy + 0.1


def test_several_objects_keep_their_ids_without_overlap_and_void_stays_background(davis_root):
    frames, gts = _sequence(davis_root, "bear", 10)
    first = gts[0].copy()
    xs = np.flatnonzero((first == 1).any(axis=0))
    middle = (xs[0] + xs[-1]) // 2
    first[:, middle:][first[:, middle:] == 1] = 7  # the bear's right half is object 7
    first[:40, :40] = 255  # a void corner
    preds = dict(pairs(ClassicPropagator().propagate(frames, {0: first}, range(1, 10))))
    for i, labels in preds.items():
        assert set(np.unique(labels).tolist()) == {0, 1, 7}, i
        # Together the two objects still cover the bear.
        assert jaccard(gts[i] == 1, labels > 0) > 0.8
        left = np.flatnonzero((labels == 1).any(axis=0)).mean()
        right = np.flatnonzero((labels == 7).any(axis=0)).mean()
        assert left < right


def test_cancel_stops_between_frames(davis_root):
    frames, gts = _sequence(davis_root, "bear", 12)
    produced: list[int] = []
    stream = ClassicPropagator().propagate(frames, {0: gts[0]}, range(1, 12),
                                           should_stop=lambda: len(produced) >= 3)
    for index, _ in pairs(stream):
        produced.append(index)
    assert produced == [1, 2, 3]
    assert max(frames.read) <= 3


def test_keyframe_inside_the_targets_is_returned_as_drawn(davis_root):
    frames, gts = _sequence(davis_root, "bear", 8)
    keyframes = {0: gts[0], 4: gts[4]}
    preds = dict(pairs(ClassicPropagator().propagate(frames, keyframes, range(1, 8))))
    assert np.array_equal(preds[4], gts[4])
    assert jaccard(gts[5] == 1, preds[5] == 1) > 0.85


def test_object_hidden_for_several_frames_is_found_again(davis_root):
    # The ball of soccerball (frames 6-25) is painted out of six frames in a row, its
    # surroundings filled in, while it keeps rolling: the flow-carried mask is left on
    # background, so only a search by the keyframe's colours finds the ball again.
    frames, gts = _sequence(davis_root, "soccerball", 26)
    first = 6
    pictures = [frames[i] for i in range(first, 26)]
    truth = gts[first:]
    hidden = range(4, 10)
    for i in hidden:
        hole = cv2.dilate((truth[i] > 0).astype(np.uint8), np.ones((15, 15), np.uint8))
        pictures[i] = cv2.inpaint(pictures[i], hole, 5, cv2.INPAINT_TELEA)
    targets = range(1, len(pictures))
    results = list(ClassicPropagator().propagate(pictures, {0: truth[0]}, targets))
    preds = {r.index: r.labels for r in results}
    after = range(hidden[-1] + 1, len(pictures))
    # A propagator that follows the flow only (as this one did before) keeps its mask on the
    # filled-in background and scores 0 here; this one about 0.75.
    assert _mean_j(truth, preds, after) > 0.6
    assert all(jaccard(truth[i] == 1, preds[i] == 1) > 0.3 for i in after)
    # Confidence says so: about 0 while the ball is gone (its mask shrinks to nothing), back
    # above the flag threshold (about 0.55) by the last frames once it is found again.
    confidence = {r.index: r.confidence[1] for r in results}
    assert all(confidence[i] < 0.1 for i in hidden), confidence
    assert min(confidence[i] for i in (18, 19)) > 0.5, confidence


def test_confidence_is_high_on_a_tracked_object_and_one_on_keyframes(davis_root: Path) -> None:
    """Each frame's confidence is in 0..1 (high on a bear that is tracked well); a keyframe's
    own objects are 1."""
    frames, gts = _sequence(davis_root, "bear", 6)
    keyframes = {0: gts[0], 5: gts[5]}
    results = list(ClassicPropagator().propagate(frames, keyframes, range(1, 6)))
    assert [r.index for r in results] == [1, 2, 3, 4, 5]
    for result in results[:-1]:
        assert set(result.confidence) == {1}
        assert 0.5 < result.confidence[1] <= 1.0
    assert results[-1].confidence == {1: 1.0}  # frame 5 is a keyframe


def test_confidence_does_not_sink_with_age_while_the_mask_stays_good(davis_root: Path) -> None:
    """Over all of bear (82 frames), where the propagated mask's J stays high, the confidence
    does not fall with the frames since the keyframe: the review's low-confidence rule flags
    almost none of the frames whose J is at least 0.8, and the last ten frames' confidence is
    about the first ten's. (The previous model, which fell with the pass's age, flagged 19
    frames of J >= 0.9 from frame 63 on.)"""
    frames, gts = _sequence(davis_root, "bear", 82)
    targets = range(1, len(frames))
    out = {r.index: r for r in ClassicPropagator().propagate(frames, {0: gts[0]}, targets)}
    j = np.array([jaccard(gts[i] == 1, out[i].labels == 1) for i in targets])
    confidence = np.array([out[i].confidence[1] for i in targets])
    good = j >= 0.8
    assert good.mean() > 0.9, j.round(2)  # the premise: the mask stays good here
    flagged = confidence < FlagRules().low_confidence
    assert np.count_nonzero(flagged & good) <= 0.02 * np.count_nonzero(good), confidence.round(2)
    assert confidence[-10:].mean() > confidence[:10].mean() - 0.1, confidence.round(2)


def test_confidence_flags_a_slow_drift_before_it_fails(davis_root: Path) -> None:
    """On rhino the mask drifts slowly onto the ground around the animal and its J falls
    below 0.5 at about frame 71; the confidence falls with it (fitted on davis16-tune only, a
    set without rhino) and is below the flag threshold from before that frame on, while it is
    above it over the first 30 frames, where J is 0.75 or more. (The model fitted on tune's
    forward runs alone stayed at 0.52 over the failed frames and flagged none of them.)"""
    frames, gts = _sequence(davis_root, "rhino", 90)
    targets = range(1, 90)
    out = {r.index: r for r in ClassicPropagator().propagate(frames, {0: gts[0]}, targets)}
    j = np.array([jaccard(gts[i] == 1, out[i].labels == 1) for i in targets])
    confidence = np.array([out[i].confidence[1] for i in targets])
    failed = np.flatnonzero(j < 0.5)
    assert failed.size >= 10, j.round(2)  # the premise: the drift makes the last frames fail
    flagged = confidence < 0.5
    assert flagged[failed].all(), confidence.round(2)
    assert np.argmax(flagged) < failed[0], confidence.round(2)
    assert not flagged[:30].any(), confidence.round(2)


def test_mask_does_not_trail_behind_on_ground_that_moves_with_the_camera(davis_root: Path) -> None:
    """On hike the mask spreads onto rocks behind the walker that the panning camera moves
    past; the parts of it that move with the background while the walker moves on are
    dropped, so the mask follows the walker only."""
    frames, gts = _sequence(davis_root, "hike", 41)
    targets = range(1, 41)
    late = range(30, 41)
    with_motion = dict(pairs(ClassicPropagator().propagate(frames, {0: gts[0]}, targets)))
    colour_only = dict(pairs(ClassicPropagator(independence=False).propagate(
        frames, {0: gts[0]}, targets)))
    j, j_before = _mean_j(gts, with_motion, late), _mean_j(gts, colour_only, late)
    # About 0.92 with the motion check, 0.73 without it, over frames 30 to 40.
    assert j > 0.85, j
    assert j_before < 0.8, j_before


def test_object_coming_in_at_the_frame_edge_joins_its_mask(davis_root: Path) -> None:
    """A camera turning to the bear: a 480-pixel-wide window slides left over bear's frames by
    8 pixels a frame, its left edge cutting the bear in half on the keyframe, so the rest of
    the bear comes in at the edge. What comes in next to the bear's mask, moving with it and of
    its colours, joins the mask. (Before, nothing came in from beyond the edge: J fell to about
    0.53 over the last five frames; now about 0.72.)"""
    frames, gts = _sequence(davis_root, "bear", 20)
    columns = np.flatnonzero(gts[0].any(axis=0))
    left = int((columns[0] + columns[-1]) / 2)

    def window(picture: np.ndarray, t: int) -> np.ndarray:
        return picture[:, left - 8 * t: left - 8 * t + 480]

    pictures = [window(frames[t], t) for t in range(20)]
    truth = [window(gts[t], t) for t in range(20)]
    assert np.count_nonzero(truth[19] == 1) > 1.7 * np.count_nonzero(truth[0] == 1)  # premise
    preds = dict(pairs(ClassicPropagator().propagate(pictures, {0: truth[0]}, range(1, 20))))
    j = _mean_j(truth, preds, range(15, 20))
    assert j > 0.65, j


def test_object_that_rode_out_of_view_is_found_when_it_comes_back(davis_tune_root: Path) -> None:
    """On bmx-bumps (davis16-tune) the rider rides out at the left edge (frames 31 to 44) and
    comes back in there (from 45). The scrap of the mask left on the fence at the edge no
    longer teaches the memory the rider's size (its own motion was carrying it out of view),
    so the rider counts as lost, is searched for and found again. (Before, the scrap stayed
    on the fence and the rider was never searched for: J 0 over frames 48 to 58; now about
    0.8.)"""
    frames, gts = _sequence(davis_tune_root, "bmx-bumps", 59)
    preds = dict(pairs(ClassicPropagator().propagate(frames, {0: gts[0]}, range(1, 59))))
    j = _mean_j(gts, preds, range(48, 59))
    assert j > 0.6, j


def test_swinging_legs_come_back_to_a_half_hidden_dancer(davis_tune_root: Path) -> None:
    """On breakdance-flare (davis16-tune) the mask loses the dancer's legs as they swing
    (frames 15 to 28) and keeps the torso and head. Such half-hidden masks no longer teach
    the memory the dancer's size, so it is still completed up to its size from before, and
    the legs (of its keyframe colours) are taken back. (Before, the smaller masks taught the
    size down, completion stopped and J over frames 16 to 28 was 0.24; now about 0.47.)"""
    frames, gts = _sequence(davis_tune_root, "breakdance-flare", 29)
    preds = dict(pairs(ClassicPropagator().propagate(frames, {0: gts[0]}, range(1, 29))))
    j = _mean_j(gts, preds, range(16, 29))
    assert j > 0.4, j


def test_mask_dragged_off_a_rider_by_a_passer_by_is_let_go(davis_tune_root: Path) -> None:
    """On bmx-bumps (davis16-tune) played backward from its last frame, the rider goes behind
    a person walking past the camera (frames 77 to 60). The flow at the person's edge drags
    the mask onto the trees and banner beside it (of the rider's colours), where it stayed
    while the rider was hidden. There the mask comes to rest on the background while the
    rider had been moving against it, so it counts as taken over: it is cleared, and the
    finds on the same trees that follow are not taken. (Before, J over frames 74 to 62, where
    the rider is hidden and the truth is empty but for a sliver on frame 61, was 0.46; now
    about 0.92.)"""
    frames, gts = _sequence(davis_tune_root, "bmx-bumps", 90)
    targets = range(88, 59, -1)
    preds = dict(pairs(ClassicPropagator().propagate(frames, {89: gts[89]}, targets)))
    j = _mean_j(gts, preds, range(62, 75))
    assert j > 0.8, j
