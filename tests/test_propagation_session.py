"""Propagation session: passes between keyframes, progress, cancel, late objects, corrections."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.engine.propagation import Pass, PropagationSession


class AnchorCopier:
    """A propagator that repeats the memory keyframe nearest the pass start, and logs calls."""

    name = "copier"

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[int, ...], tuple[int, ...]]] = []

    def propagate(self, frames, keyframes, targets, should_stop=None):
        targets = tuple(targets)
        self.calls.append((tuple(sorted(keyframes)), targets))
        step = 1 if len(targets) < 2 or targets[1] > targets[0] else -1
        anchor = targets[0] - step
        for index in targets:
            if should_stop is not None and should_stop():
                return
            frames[index]
            yield index, keyframes[anchor].copy()


def labels_with(*ids: int) -> np.ndarray:
    labels = np.zeros((4, 6), np.uint8)
    for position, object_id in enumerate(ids):
        labels[position, :] = object_id
    return labels


FRAMES = [np.zeros((4, 6, 3), np.uint8)] * 30


def covered(passes: list[Pass]) -> list[int]:
    return sorted(t for p in passes for t in p.targets)


def test_forward_passes_stop_before_each_keyframe():
    passes = PropagationSession(AnchorCopier()).plan(30, [3, 10, 20], 3, "forward")
    assert [(p.anchor, p.targets[0], p.targets[-1]) for p in passes] == [
        (3, 4, 9),
        (10, 11, 19),
        (20, 21, 29),
    ]
    assert [p.memory for p in passes] == [(3,), (3, 10), (3, 10, 20)]
    assert all(p.direction == "forward" for p in passes)


def test_backward_passes_mirror_forward():
    passes = PropagationSession(AnchorCopier()).plan(30, [3, 10, 20], 20, "backward")
    assert [(p.anchor, p.targets[0], p.targets[-1]) for p in passes] == [
        (20, 19, 11),
        (10, 9, 4),
        (3, 2, 0),
    ]
    assert [p.memory for p in passes] == [(20,), (10, 20), (3, 10, 20)]


def test_both_covers_every_frame_once_from_the_nearer_keyframe():
    passes = PropagationSession(AnchorCopier()).plan(30, [5, 12], 8, "both")
    assert covered(passes) == [t for t in range(30) if t not in (5, 12)]
    nearest = {t: p.anchor for p in passes for t in p.targets}
    assert nearest[8] == 5 and nearest[9] == 12 and nearest[0] == 5 and nearest[29] == 12


def test_end_limits_the_range_and_bad_requests_fail():
    session = PropagationSession(AnchorCopier())
    assert covered(session.plan(30, [0], 0, "forward", end=6)) == [1, 2, 3, 4, 5, 6]
    assert covered(session.plan(30, [20], 20, "backward", end=17)) == [17, 18, 19]
    with pytest.raises(ValueError):
        session.plan(30, [], 0, "forward")
    with pytest.raises(ValueError):
        session.plan(30, [0], 0, "sideways")


def test_run_yields_every_target_with_progress():
    copier = AnchorCopier()
    progress = []
    keyframes = {0: labels_with(1), 15: labels_with(2)}
    results = dict(
        PropagationSession(copier).run(
            FRAMES, keyframes, 0, "forward", on_progress=lambda d, t: progress.append((d, t))
        )
    )
    assert sorted(results) == [t for t in range(30) if t not in (0, 15)]
    assert progress == [(n, 28) for n in range(1, 29)]
    assert np.array_equal(results[14], labels_with(1))
    assert np.array_equal(results[16], labels_with(2))


def test_cancel_stops_between_frames():
    copier = AnchorCopier()
    done: list[int] = []
    run = PropagationSession(copier).run(
        FRAMES,
        {0: labels_with(1), 10: labels_with(1)},
        0,
        "forward",
        should_stop=lambda: len(done) >= 3,
    )
    for index, _ in run:
        done.append(index)
    assert done == [1, 2, 3]
    assert len(copier.calls) == 1


def test_late_object_is_memory_for_the_passes_after_its_keyframe():
    copier = AnchorCopier()
    keyframes = {0: labels_with(1), 12: labels_with(1, 2)}
    results = dict(PropagationSession(copier).run(FRAMES, keyframes, 0, "forward"))
    assert copier.calls[0][0] == (0,)
    assert copier.calls[1][0] == (0, 12)
    assert all(2 not in np.unique(results[t]) for t in range(1, 12))
    assert all(2 in np.unique(results[t]) for t in range(13, 30))


def test_correction_becomes_a_keyframe_and_the_next_run_starts_there():
    copier = AnchorCopier()
    session = PropagationSession(copier)
    keyframes = {0: labels_with(1)}
    first: dict[int, np.ndarray] = {}
    for index, labels in session.run(FRAMES, keyframes, 0, "forward"):
        first[index] = labels
        if index == 9:
            break
    keyframes[6] = labels_with(3)  # the person fixes frame 6
    second = list(session.run(FRAMES, keyframes, 6, "forward"))
    assert [index for index, _ in second] == list(range(7, 30))
    assert copier.calls[-1] == ((0, 6), tuple(range(7, 30)))
    assert all(np.array_equal(labels, labels_with(3)) for _, labels in second)
