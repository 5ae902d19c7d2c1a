"""Frames worth a look when there is no ground truth: each flag names a frame, an object and
the reason. The checks compare a frame with the one before it only, so their cost per frame is
flat however long the video.

- low confidence: the propagator's confidence in the mask is below `low_confidence`;
- area change: the mask grows or shrinks by `area_ratio` or more from one frame to the next;
- lost / appeared: the object vanishes, or shows up after a frame without it;
- fragments: the mask breaks into more sizeable pieces than it had on the frame before;
- overlap: the source (a results JSON) gives two objects the same pixels;
- jump: the mask's centre moves away from where the picture's motion (median optical flow over
  the mask on the frame before) says it should be.

A frame whose mask is back to what it was two frames before (the frame before was the odd one
out) is not flagged for its change from the frame before, and ranks as sound.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from annotator.quality.motion import Motion, median_motion
from models.protocols import VOID


class FlagKind(enum.StrEnum):
    LOW_CONFIDENCE = "low confidence"
    AREA_CHANGE = "area change"
    LOST = "lost"
    APPEARED = "appeared"
    FRAGMENTS = "fragments"
    OVERLAP = "overlap"
    JUMP = "jump"


@dataclass(frozen=True)
class Flag:
    """A frame worth a look: which object, what kind of trouble, and in words why."""

    index: int
    object_id: int
    kind: FlagKind
    reason: str

    @property
    def text(self) -> str:
        """Kind and reason, e.g. "area change: 2,289 → 1,198 px (×0.52)"."""
        return f"{self.kind.value}: {self.reason}"


@dataclass(frozen=True)
class FlagRules:
    """Thresholds of the checks (the defaults were set on the DAVIS 2016 dev sequences)."""

    low_confidence: float = 0.5
    area_ratio: float = 1.6
    min_area_fraction: float = 0.0002  # smaller masks (of the frame's pixels) count as absent
    piece_fraction: float = 0.1  # a piece counts when it holds this share of the mask
    jump_fraction: float = 0.15  # of the mask's size (square root of its area)
    jump_min_pixels: float = 6.0
    overlap_fraction: float = 0.02  # of the smaller of the two masks
    # a mask is back to the one two frames before when it overlaps it at least this much...
    back_iou: float = 0.5
    back_margin: float = 0.2  # ...and this much more than the one just before


@dataclass(frozen=True)
class ObjectFacts:
    """One object on one frame: area in pixels, centre (x, y) and sizeable pieces."""

    area: int
    centre: tuple[float, float]
    pieces: int


@dataclass(frozen=True)
class FrameFacts:
    """What the checks need of one frame, computed once: its label map, its small grey copy
    (None without frames), per object facts, the engine's confidence and the source's
    overlaps (object pair -> shared pixels)."""

    labels: np.ndarray
    grey: np.ndarray | None
    objects: dict[int, ObjectFacts]
    confidence: Mapping[int, float]
    overlaps: Mapping[tuple[int, int], int]


@dataclass(frozen=True)
class ObjectSignals:
    """Per object on one frame: area, the engine's confidence (None: none given), the IoU
    with the frame before (None: absent there, or the first frame) and whether the mask is back
    to the one two frames before (the frame before was the odd one out)."""

    area: int
    confidence: float | None
    iou_previous: float | None
    back: bool = False


@dataclass(frozen=True)
class FrameSignals:
    """The signals and flags of one frame."""

    index: int
    name: str
    objects: dict[int, ObjectSignals]
    flags: tuple[Flag, ...]

    @property
    def score(self) -> float:
        """The lowest confidence or IoU with the frame before over its objects (1: nothing
        doubtful); with the flags, it ranks frames when there is no ground truth."""
        values = [v for s in self.objects.values()
                  for v in (s.confidence, None if s.back else s.iou_previous) if v is not None]
        return min(values, default=1.0)


def frame_facts(labels: np.ndarray, grey: np.ndarray | None, confidence: Mapping[int, float],
                overlaps: Mapping[tuple[int, int], int], rules: FlagRules) -> FrameFacts:
    """The facts of one frame (one pass over its pixels per object)."""
    counts = np.bincount(labels.ravel(), minlength=256)
    least = max(1, math.ceil(rules.min_area_fraction * labels.size))
    objects = {}
    for object_id in np.flatnonzero(counts[1:VOID] >= least) + 1:
        mask = (labels == object_id).view(np.uint8)
        moments = cv2.moments(mask, binaryImage=True)
        area = int(counts[object_id])
        _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        sizeable = stats[1:, cv2.CC_STAT_AREA] >= max(least, rules.piece_fraction * area)
        objects[int(object_id)] = ObjectFacts(
            area, (moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]),
            int(sizeable.sum()))
    return FrameFacts(labels, grey, objects, dict(confidence), dict(overlaps))


def check_frame(index: int, name: str, current: FrameFacts, previous: FrameFacts | None,
                rules: FlagRules, motion: Motion | None = None,
                earlier: FrameFacts | None = None) -> FrameSignals:
    """Signals and flags of a frame given the frame before it (None: it is the first) and
    the one before that (`earlier`, None: none)."""
    flags: list[Flag] = []
    signals: dict[int, ObjectSignals] = {}
    flow = None
    before = previous.objects if previous is not None else {}
    for object_id, confidence in sorted(current.confidence.items()):
        if confidence < rules.low_confidence:
            flags.append(Flag(index, object_id, FlagKind.LOW_CONFIDENCE,
                              f"{confidence:.3f} < {rules.low_confidence:g}"))
    for object_id in sorted(set(current.objects) | set(before)):
        now, then = current.objects.get(object_id), before.get(object_id)
        iou, back = None, False
        if now is None and then is not None:
            iou = 0.0
            flags.append(Flag(index, object_id, FlagKind.LOST,
                              f"{then.area:,} px on the frame before, none here"))
        elif now is not None and then is None and previous is not None:
            back = earlier is not None and object_id in earlier.objects
            if not back:  # else the frame before lost it, and was flagged for it
                flags.append(Flag(index, object_id, FlagKind.APPEARED,
                                  f"{now.area:,} px, none on the frame before"))
        elif now is not None and then is not None and previous is not None:
            mask = current.labels == object_id
            iou = _iou(mask, previous.labels == object_id)
            back = (earlier is not None and object_id in earlier.objects
                    and _iou(mask, earlier.labels == object_id)
                    >= max(rules.back_iou, iou + rules.back_margin))
            if back:  # the frame before was the odd one out, and was flagged for it
                signals[object_id] = ObjectSignals(now.area, current.confidence.get(object_id),
                                                   iou, back=True)
                continue
            found = _area_and_pieces(index, object_id, now, then, rules)
            flags += found
            resized = any(flag.kind is FlagKind.AREA_CHANGE for flag in found)
            if (motion is not None and current.grey is not None and previous.grey is not None
                    and not resized):  # a new size moves the centre: said already
                if flow is None:
                    flow = motion.flow(previous.grey, current.grey)
                jump = _jump(index, object_id, now, then, flow, previous.labels, rules)
                if jump is not None:
                    flags.append(jump)
        if now is not None or iou is not None:
            signals[object_id] = ObjectSignals(now.area if now else 0,
                                               current.confidence.get(object_id), iou, back)
    for (a, b), shared in sorted(current.overlaps.items()):
        smaller = min(current.objects[a].area if a in current.objects else shared,
                      current.objects[b].area if b in current.objects else shared)
        if shared >= max(1.0, rules.overlap_fraction * smaller):
            flags.append(Flag(index, a, FlagKind.OVERLAP,
                              f"shares {shared:,} px with object {b} in the source"))
    for object_id in current.confidence:
        if object_id not in signals:
            signals[object_id] = ObjectSignals(0, current.confidence[object_id], None)
    return FrameSignals(index, name, dict(sorted(signals.items())), tuple(flags))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 1.0


def _area_and_pieces(index: int, object_id: int, now: ObjectFacts, then: ObjectFacts,
                     rules: FlagRules) -> list[Flag]:
    flags = []
    ratio = now.area / then.area
    if max(ratio, 1 / ratio) >= rules.area_ratio:
        flags.append(Flag(index, object_id, FlagKind.AREA_CHANGE,
                          f"{then.area:,} → {now.area:,} px (×{ratio:.2f})"))
    if now.pieces > max(1, then.pieces):
        flags.append(Flag(index, object_id, FlagKind.FRAGMENTS,
                          f"{now.pieces} pieces ({then.pieces} on the frame before)"))
    return flags


def _jump(index: int, object_id: int, now: ObjectFacts, then: ObjectFacts, flow: np.ndarray,
          labels_before: np.ndarray, rules: FlagRules) -> Flag | None:
    """A jump flag when the centre moved further from the flow's prediction than the rules
    allow for the object's size."""
    moved = median_motion(flow, labels_before == object_id)
    if moved is None:
        return None
    expected = (then.centre[0] + moved[0], then.centre[1] + moved[1])
    off = math.hypot(now.centre[0] - expected[0], now.centre[1] - expected[1])
    allowed = max(rules.jump_min_pixels, rules.jump_fraction * math.sqrt(then.area))
    if off <= allowed:
        return None
    return Flag(index, object_id, FlagKind.JUMP,
                f"centre {off:.1f} px from where the motion leads ({allowed:.1f} allowed)")
