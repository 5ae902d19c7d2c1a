"""Propagation session: plans passes between keyframes and runs any propagator over them.

A pass starts next to a keyframe (its anchor) and moves away from it, forward or backward,
stopping before the next keyframe or at `end`. Its memory is every keyframe on the side it comes
from: for a forward pass the keyframes at or before its anchor, for a backward pass those at or
after it. So an object first drawn on a later keyframe is memory for the passes that follow that
keyframe, and a correction saved as a keyframe makes the next run start from it (the frames on
the far side of it are never overwritten by a pass that began before it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace

import numpy as np

from annotator.engine.protocols import FrameSequence, Propagator

DIRECTIONS = ("forward", "backward", "both")


@dataclass(frozen=True)
class Pass:
    """One run of the propagator: `targets` in order, moving away from keyframe `anchor`."""

    anchor: int
    direction: str  # "forward" or "backward"
    targets: tuple[int, ...]
    memory: tuple[int, ...]  # keyframe indices given to the propagator


class PropagationSession:
    """Runs a `Propagator` over the passes of a request, one frame at a time."""

    def __init__(self, propagator: Propagator) -> None:
        self.propagator = propagator

    def plan(
        self,
        num_frames: int,
        keyframe_indices,
        start: int,
        direction: str,
        end: int | None = None,
    ) -> list[Pass]:
        """Passes that carry the keyframes from `start` towards `end` (the last frame going
        forward, the first going backward; with "both", each way to the end of the video, and a
        gap between two keyframes is split at its middle so each frame comes from the nearer).

        Going forward the first anchor is the last keyframe at or before `start` (else the
        first one after it); going backward, the first keyframe at or after `start` (else the
        last one before it). Keyframes are never targets.
        """
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
        keys = sorted({int(k) for k in keyframe_indices if 0 <= int(k) < num_frames})
        if not keys:
            raise ValueError("propagation needs at least one keyframe")
        if not 0 <= start < num_frames:
            raise ValueError(f"start frame {start} is outside the video (0..{num_frames - 1})")
        if direction == "both" and end is not None:
            raise ValueError("`end` applies to one direction only")
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
        start: int,
        direction: str,
        should_stop: Callable[[], bool] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        end: int | None = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (frame index, label map) as each frame is done; `on_progress(done, total)`
        after each. Stops between frames once `should_stop()` is true."""
        passes = self.plan(len(frames), keyframes.keys(), start, direction, end)
        total = sum(len(p.targets) for p in passes)
        done = 0
        for planned in passes:
            if should_stop is not None and should_stop():
                return
            memory = {index: keyframes[index] for index in planned.memory}
            results = self.propagator.propagate(frames, memory, planned.targets, should_stop)
            for index, labels in results:
                done += 1
                if on_progress is not None:
                    on_progress(done, total)
                yield index, labels


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
