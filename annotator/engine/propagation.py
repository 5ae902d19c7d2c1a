"""Propagation session: plans passes between keyframes and runs any propagator over them.

A pass starts next to a keyframe (its anchor) and moves away from it, forward or backward,
stopping before the next keyframe or at `end`. Its memory is every keyframe on the side it comes
from: for a forward pass the keyframes at or before its anchor, for a backward pass those at or
after it. So an object first drawn on a later keyframe is memory for the passes that follow that
keyframe, and a correction saved as a keyframe makes the next run start from it (the frames on
the far side of it are never overwritten by a pass that began before it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Literal, Protocol, get_args

import numpy as np

from annotator.errors import AnnotatorError
from models.protocols import VOID, FrameSequence, PropagatedFrame, Propagator, ShouldStop

Direction = Literal["forward", "backward", "both"]
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)
PassDirection = Literal["forward", "backward"]


@dataclass(frozen=True)
class PropagationRequest:
    """What to propagate: from frame `start` in `direction` up to frame `end` (None: the end of
    the video; one direction only), the objects `object_ids` (None: every object)."""

    start: int
    direction: Direction = "both"
    end: int | None = None
    object_ids: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, "
                                 f"not {self.direction!r}")
        if self.direction == "both" and self.end is not None:
            raise ValueError("an end frame applies to one direction only")
        if self.object_ids is not None and not self.object_ids:
            raise ValueError("no objects chosen to propagate")

    def span(self, frame_count: int) -> int:
        """How many frames lie between `start` and where the request stops (a progress bar's
        length before the passes are planned)."""
        last = frame_count - 1
        forward = min(last, last if self.end is None else self.end) - self.start
        backward = self.start - max(0, 0 if self.end is None else self.end)
        return {"forward": forward, "backward": backward, "both": last}[self.direction]


class KeyframeSource(Protocol):
    """Where the keyframes of a request come from (a VideoAnnotation)."""

    def keyframe_indices(self, object_ids: Iterable[int] | None = None) -> list[int]: ...

    def label_map(self, index: int) -> np.ndarray: ...


class NothingToPropagate(AnnotatorError):
    """A request that has no keyframe to start from or no frame to reach."""


def check_request(request: PropagationRequest, frame_count: int, source: KeyframeSource) -> int:
    """How many frames `request` spans; NothingToPropagate when it has nothing to do."""
    if not source.keyframe_indices(request.object_ids):
        raise NothingToPropagate("Nothing to propagate: make a mask on some frame first")
    total = request.span(frame_count)
    if total <= 0:
        raise NothingToPropagate(f"No frames {request.direction} of this one")
    return total


def only_objects(labels: np.ndarray, object_ids: Iterable[int]) -> np.ndarray:
    """The label map with every object outside `object_ids` turned into background."""
    keep = np.zeros(256, dtype=bool)
    keep[list(object_ids)] = True
    keep[VOID] = True
    return np.where(keep[labels], labels, 0).astype(np.uint8)


def take_objects(current: np.ndarray, propagated: np.ndarray, object_ids: Iterable[int],
                 ) -> np.ndarray:
    """`current` with the objects `object_ids` taken from `propagated`: their old pixels become
    background, their new ones are set wherever no other object (nor void) is."""
    chosen = np.zeros(256, dtype=bool)
    chosen[list(object_ids)] = True
    result = np.where(chosen[current], 0, current).astype(np.uint8)
    taken = chosen[propagated] & (result == 0)
    result[taken] = propagated[taken]
    return result


def select_keyframes(labels: Mapping[int, np.ndarray], object_ids: tuple[int, ...] | None,
                     ) -> dict[int, np.ndarray]:
    """The keyframes to propagate `object_ids` from (None: every object): reduced to those
    objects, and only the ones that hold one of them."""
    if object_ids is None:
        return dict(labels)
    reduced = {index: only_objects(label_map, object_ids) for index, label_map in labels.items()}
    return {index: label_map for index, label_map in reduced.items()
            if np.isin(label_map, object_ids).any()}


def read_keyframes(source: KeyframeSource, request: PropagationRequest) -> dict[int, np.ndarray]:
    """The keyframes of `request` read from an annotation: frame index -> label map, one
    decode per keyframe (run it in a worker)."""
    indices = source.keyframe_indices(request.object_ids)
    return select_keyframes({i: source.label_map(i) for i in indices}, request.object_ids)


@dataclass(frozen=True)
class Pass:
    """One run of the propagator: `targets` in order, moving away from keyframe `anchor`."""

    anchor: int
    direction: PassDirection
    targets: tuple[int, ...]
    memory: tuple[int, ...]  # keyframe indices given to the propagator


class PropagationSession:
    """Runs a `Propagator` over the passes of a request, one frame at a time."""

    def __init__(self, propagator: Propagator) -> None:
        self.propagator = propagator

    def plan(self, num_frames: int, keyframe_indices: Iterable[int],
             request: PropagationRequest) -> list[Pass]:
        """Passes that carry the keyframes from the request's start towards its end (the last
        frame going forward, the first going backward; with "both", each way to the end of the
        video, and a gap between two keyframes is split at its middle so each frame comes from
        the nearer).

        Going forward the first anchor is the last keyframe at or before the start (else the
        first one after it); going backward, the first keyframe at or after the start (else the
        last one before it). Keyframes are never targets.
        """
        keys = sorted({int(k) for k in keyframe_indices if 0 <= int(k) < num_frames})
        if not keys:
            raise ValueError("propagation needs at least one keyframe")
        start, end, direction = request.start, request.end, request.direction
        if not 0 <= start < num_frames:
            raise ValueError(f"start frame {start} is outside the video (0..{num_frames - 1})")
        forward: list[Pass] = []
        backward: list[Pass] = []
        if direction in ("forward", "both"):
            last = num_frames - 1 if end is None else min(end, num_frames - 1)
            forward = _forward_passes(keys, start, last)
        if direction in ("backward", "both"):
            first = 0 if end is None else max(end, 0)
            backward = _backward_passes(keys, start, first)
        if direction == "both":
            forward, backward = _split_gaps(forward, backward)
        return [p for p in forward + backward if p.targets]

    def run(
        self,
        frames: FrameSequence,
        keyframes: Mapping[int, np.ndarray],
        request: PropagationRequest,
        should_stop: ShouldStop | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> Iterator[PropagatedFrame]:
        """Yield each frame as it is done; `on_progress(done, total)` after each. Stops between
        frames once `should_stop()` is true. `keyframes` are those of the request (see
        `select_keyframes`)."""
        passes = self.plan(len(frames), keyframes.keys(), request)
        total = sum(len(p.targets) for p in passes)
        done = 0
        for planned in passes:
            if should_stop is not None and should_stop():
                return
            memory = {index: keyframes[index] for index in planned.memory}
            for result in self.propagator.propagate(frames, memory, planned.targets, should_stop):
                done += 1
                if on_progress is not None:
                    on_progress(done, total)
                yield result


def _forward_passes(keys: list[int], start: int, last: int) -> list[Pass]:
    before = [k for k in keys if k <= start]
    origin = before[-1] if before else start
    passes = []
    for anchor in (k for k in keys if origin <= k < last):
        next_key = next((k for k in keys if k > anchor), None)
        stop = last if next_key is None else min(last, next_key - 1)
        if stop > anchor:
            memory = tuple(k for k in keys if k <= anchor)
            passes.append(Pass(anchor, "forward", tuple(range(anchor + 1, stop + 1)), memory))
    return passes


def _backward_passes(keys: list[int], start: int, first: int) -> list[Pass]:
    after = [k for k in keys if k >= start]
    origin = after[0] if after else start
    passes = []
    for anchor in (k for k in reversed(keys) if first < k <= origin):
        previous_key = next((k for k in reversed(keys) if k < anchor), None)
        stop = first if previous_key is None else max(first, previous_key + 1)
        if stop < anchor:
            memory = tuple(k for k in keys if k >= anchor)
            passes.append(Pass(anchor, "backward", tuple(range(anchor - 1, stop - 1, -1)), memory))
    return passes


def _split_gaps(forward: list[Pass], backward: list[Pass]) -> tuple[list[Pass], list[Pass]]:
    """Where a forward and a backward pass cover the same gap, each keeps its nearer half."""
    backward_by_anchor = {p.anchor: p for p in backward}
    kept_forward = []
    for fwd in forward:
        closing = fwd.targets[-1] + 1
        bwd = backward_by_anchor.get(closing)
        if bwd is not None and bwd.targets[-1] == fwd.anchor + 1:
            middle = (fwd.anchor + closing) // 2
            fwd = replace(fwd, targets=tuple(t for t in fwd.targets if t <= middle))
            backward_by_anchor[closing] = replace(
                bwd, targets=tuple(t for t in bwd.targets if t > middle)
            )
        kept_forward.append(fwd)
    return kept_forward, [backward_by_anchor[p.anchor] for p in backward]
