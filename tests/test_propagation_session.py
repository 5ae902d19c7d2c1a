"""Propagation session: passes between keyframes, progress, cancel, late objects, corrections."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.annotation import VideoAnnotation
from annotator.engine.propagation import (
    NothingToPropagate,
    Pass,
    PropagationSession,
    check_request,
    read_keyframes,
    select_keyframes,
    take_objects,
)
from annotator.engine.propagation import PropagationRequest as Request
from models.protocols import VOID, PropagatedFrame


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
            yield PropagatedFrame(index, keyframes[anchor].copy(), {})


def labels_with(*ids: int) -> np.ndarray:
    labels = np.zeros((4, 6), np.uint8)
    for position, object_id in enumerate(ids):
        labels[position, :] = object_id
    return labels


FRAMES = [np.zeros((4, 6, 3), np.uint8)] * 30


def covered(passes: list[Pass]) -> list[int]:
    return sorted(t for p in passes for t in p.targets)


def test_forward_passes_stop_before_each_keyframe():
    passes = PropagationSession(AnchorCopier()).plan(30, [3, 10, 20], Request(3, "forward"))
    assert [(p.anchor, p.targets[0], p.targets[-1]) for p in passes] == [
        (3, 4, 9),
        (10, 11, 19),
        (20, 21, 29),
    ]
    assert [p.memory for p in passes] == [(3,), (3, 10), (3, 10, 20)]
    assert all(p.direction == "forward" for p in passes)


def test_backward_passes_mirror_forward():
    passes = PropagationSession(AnchorCopier()).plan(30, [3, 10, 20], Request(20, "backward"))
    assert [(p.anchor, p.targets[0], p.targets[-1]) for p in passes] == [
        (20, 19, 11),
        (10, 9, 4),
        (3, 2, 0),
    ]
    assert [p.memory for p in passes] == [(20,), (10, 20), (3, 10, 20)]


def test_both_covers_every_frame_once_from_the_nearer_keyframe():
    passes = PropagationSession(AnchorCopier()).plan(30, [5, 12], Request(8, "both"))
    assert covered(passes) == [t for t in range(30) if t not in (5, 12)]
    nearest = {t: p.anchor for p in passes for t in p.targets}
    assert nearest[8] == 5 and nearest[9] == 12 and nearest[0] == 5 and nearest[29] == 12


def test_end_limits_the_range_and_bad_requests_fail():
    session = PropagationSession(AnchorCopier())
    assert covered(session.plan(30, [0], Request(0, "forward", end=6))) == [1, 2, 3, 4, 5, 6]
    assert covered(session.plan(30, [20], Request(20, "backward", end=17))) == [17, 18, 19]
    with pytest.raises(ValueError):
        session.plan(30, [], Request(0, "forward"))
    with pytest.raises(ValueError):
        session.plan(30, [0], Request(0, "sideways"))


def test_run_yields_every_target_with_progress():
    copier = AnchorCopier()
    progress = []
    keyframes = {0: labels_with(1), 15: labels_with(2)}
    results = {f.index: f.labels for f in PropagationSession(copier).run(
        FRAMES, keyframes, Request(0, "forward"),
        on_progress=lambda d, t: progress.append((d, t)))}
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
        Request(0, "forward"),
        should_stop=lambda: len(done) >= 3,
    )
    for frame in run:
        done.append(frame.index)
    assert done == [1, 2, 3]
    assert len(copier.calls) == 1


def test_late_object_is_memory_for_the_passes_after_its_keyframe():
    copier = AnchorCopier()
    keyframes = {0: labels_with(1), 12: labels_with(1, 2)}
    run = PropagationSession(copier).run(FRAMES, keyframes, Request(0, "forward"))
    results = {f.index: f.labels for f in run}
    assert copier.calls[0][0] == (0,)
    assert copier.calls[1][0] == (0, 12)
    assert all(2 not in np.unique(results[t]) for t in range(1, 12))
    assert all(2 in np.unique(results[t]) for t in range(13, 30))


def test_correction_becomes_a_keyframe_and_the_next_run_starts_there():
    copier = AnchorCopier()
    session = PropagationSession(copier)
    keyframes = {0: labels_with(1)}
    first: dict[int, np.ndarray] = {}
    for frame in session.run(FRAMES, keyframes, Request(0, "forward")):
        first[frame.index] = frame.labels
        if frame.index == 9:
            break
    keyframes[6] = labels_with(3)  # the person fixes frame 6
    second = [(f.index, f.labels)
              for f in session.run(FRAMES, keyframes, Request(6, "forward"))]
    assert [index for index, _ in second] == list(range(7, 30))
    assert copier.calls[-1] == ((0, 6), tuple(range(7, 30)))
    assert all(np.array_equal(labels, labels_with(3)) for _, labels in second)


def test_request_checks_itself_and_knows_its_span() -> None:
    assert Request(5, "forward").span(30) == 24
    assert Request(5, "backward").span(30) == 5
    assert Request(5, "both").span(30) == 29
    assert Request(5, "forward", end=9).span(30) == 4
    for bad in ({"direction": "sideways"}, {"direction": "both", "end": 3},
                {"object_ids": ()}):
        with pytest.raises(ValueError):
            Request(0, **bad)


def test_keyframes_of_a_request_hold_only_its_objects() -> None:
    keyframes = {0: labels_with(1, 2), 4: labels_with(2), 9: labels_with(1, VOID)}
    assert select_keyframes(keyframes, None) == keyframes
    chosen = select_keyframes(keyframes, (1,))
    assert sorted(chosen) == [0, 9]  # frame 4 holds object 2 only
    assert np.array_equal(chosen[0], labels_with(1, 0))
    assert np.array_equal(chosen[9], labels_with(1, VOID))  # void stays


def test_annotation_keyframes_are_read_for_the_requested_objects() -> None:
    video = VideoAnnotation([f"{i}" for i in range(10)], 4, 6)
    first, second = video.add_object().id, video.add_object().id
    video.paint(2, first, labels_with(1) == 1)
    video.paint(6, second, labels_with(0, 1) == 1)
    assert sorted(read_keyframes(video, Request(0, "forward"))) == [2, 6]
    only = read_keyframes(video, Request(0, "forward", object_ids=(second,)))
    assert sorted(only) == [6] and np.array_equal(only[6], labels_with(0, second))
    with pytest.raises(NothingToPropagate, match="make a mask"):
        check_request(Request(0, "forward", object_ids=(7,)), 10, video)
    with pytest.raises(NothingToPropagate, match="No frames forward"):
        check_request(Request(9, "forward"), 10, video)
    assert check_request(Request(3, "both"), 10, video) == 9


def test_taking_objects_keeps_the_others_and_void() -> None:
    current = labels_with(1, 2, VOID, 1)
    propagated = labels_with(0, 1, 1, 3)
    taken = take_objects(current, propagated, (1,))
    # object 1 leaves rows 0 and 3; it takes no pixel of object 2 or void; 3 is not taken
    assert np.array_equal(taken, labels_with(0, 2, VOID, 0))
    assert np.array_equal(take_objects(labels_with(0, 0), labels_with(1, 3), (1, 3)),
                          labels_with(1, 3))
