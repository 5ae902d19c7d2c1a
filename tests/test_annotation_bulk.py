"""Changes to many frames prepared off the annotation's thread and committed in slices, frame
counts kept as frames change, protection of what is annotated, and recovery as an undo step."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from annotator.annotation import ChangeEvent, FrameState, VideoAnnotation
from annotator.annotation.prepared import PreparedChange
from annotator.annotation.project import Project
from annotator.annotation.video_annotation import COMMIT_FRAMES_PER_SLICE

H, W = 48, 64
FRAMES = 200


@pytest.fixture
def video() -> VideoAnnotation:
    """Two objects: 1 on every frame, 2 on every other frame, beside 1."""
    annotation = VideoAnnotation([f"{i:05d}" for i in range(FRAMES)], H, W)
    a, b = annotation.add_object().id, annotation.add_object().id
    labels = np.zeros((H, W), np.uint8)
    labels[5:20, 5:20] = a
    with annotation.transaction("propagate"):
        for index in range(FRAMES):
            labels[30:40, 30:40] = b if index % 2 == 0 else 0
            annotation.apply_propagated(index, labels)
    return annotation


def _snapshot(video: VideoAnnotation) -> list[np.ndarray]:
    return [video.label_map(i) for i in range(len(video))]


def test_delete_prepared_in_a_thread_commits_in_slices_and_undoes(video):
    before = _snapshot(video)
    events: list[ChangeEvent] = []
    video.subscribe(events.append)
    done: list[PreparedChange] = []
    seen: list[tuple[int, int]] = []
    worker = threading.Thread(target=lambda: done.append(
        video.prepare_remove(1, lambda *p: seen.append(p))))
    worker.start()
    worker.join()
    change = done[0]
    assert seen[-1] == (FRAMES, FRAMES) and len(change.frames) == FRAMES
    assert np.array_equal(video.label_map(7), before[7]) and not events  # nothing applied yet

    slices = 1
    while not video.commit(change, budget_s=10.0):  # a slice ends at its frame limit here
        slices += 1
        assert video.history.undo_name == "propagate"  # the step is filed at the end only
    assert slices == -(-FRAMES // COMMIT_FRAMES_PER_SLICE)
    assert all(len(e.frames) <= COMMIT_FRAMES_PER_SLICE for e in events)
    assert set().union(*(e.frames for e in events)) == set(range(FRAMES))
    assert 1 not in video.objects and video.frame_count(1) == 0
    assert all(not (video.label_map(i) == 1).any() for i in range(FRAMES))
    assert (video.label_map(4) == 2).sum() == 100
    assert video.history.undo_name == "remove object"

    undo = video.prepare_undo()
    assert undo is not None
    while not video.commit(undo, budget_s=0.0):
        pass
    assert all(np.array_equal(a, b) for a, b in zip(_snapshot(video), before, strict=True))
    assert video.frame_count(1) == FRAMES and video.state(3, 1) == FrameState.PROPAGATED
    assert video.redo() and video.frame_count(1) == 0


def test_a_change_prepared_before_the_history_moved_is_refused(video):
    change = video.prepare_undo()
    video.paint(0, 2, np.ones((H, W), bool))
    with pytest.raises(RuntimeError, match="changed since"):
        video.commit(change)


def test_merge_prepared_keeps_the_strongest_state_and_counts(video):
    corner = np.zeros((H, W), bool)
    corner[42:44, 0:4] = True
    video.paint(2, 2, corner)  # b made by a person on frame 2
    assert video.frame_count(2) == FRAMES // 2 and video.frame_count(1) == FRAMES
    change = video.prepare_merge(1, [2], name="merge 2 into 1")
    assert video.commit(change)
    assert list(video.objects) == [1] and video.frame_count(1) == FRAMES
    assert (video.label_map(4) == 1).sum() == 225 + 100
    assert video.state(2, 1) == FrameState.EDITED  # edited beats propagated
    assert video.history.undo_name == "merge 2 into 1"
    assert video.undo() and video.frame_count(2) == FRAMES // 2


def test_protect_keeps_other_objects_from_a_stroke(video):
    everything = np.ones((H, W), bool)
    video.paint(0, 2, everything, protect=True)  # the whole frame, protected
    labels = video.label_map(0)
    assert (labels == 1).sum() == 225 and (labels == 2).sum() == H * W - 225
    video.paint(1, 2, everything)  # not protected: takes everything
    assert (video.label_map(1) == 2).all()
    before = video.label_map(3)
    video.paint(3, 2, before == 1, protect=True)  # only object 1 there: no change
    assert np.array_equal(video.label_map(3), before)


def test_protect_keeps_a_new_objects_propagation_off_annotated_pixels(video):
    c = video.add_object().id
    proposal = video.label_map(10)
    proposal[0:30, 0:30] = c  # the new object drifts over object 1
    video.apply_propagated(10, proposal, protect=True)
    labels = video.label_map(10)
    assert (labels == 1).sum() == 225 and (labels == c).sum() == 900 - 225
    assert video.state(10, c) == FrameState.PROPAGATED
    # once the object is on the frame, a later pass is the engine's to decide
    video.apply_propagated(10, proposal, protect=True)
    assert (video.label_map(10) == 1).sum() == 0
    video.apply_propagated(11, proposal)  # not protected: the new object takes them at once
    assert (video.label_map(11) == 1).sum() == 0


def test_recovered_work_is_one_undo_step(lvos_copy: Path):
    project = Project.open(lvos_copy)
    saved = [project.annotation.label_map(i) for i in (3, 9)]
    obj = project.annotation.add_object("ball", "a ball").id
    for index in (3, 9):
        project.annotation.paint(index, obj, _stroke())
    project.close()  # a crash: the journal holds the strokes

    project = Project.open(lvos_copy)
    annotation = project.annotation
    events: list[ChangeEvent] = []
    annotation.subscribe(events.append)
    result = project.recover(notify=False)
    assert result.frames == (3, 9) and result.state and not events
    assert annotation.history.undo_name == "recover unsaved work"
    assert annotation.object(obj).caption == "a ball"
    assert annotation.undo()
    assert obj not in annotation.objects
    assert all(np.array_equal(annotation.label_map(i), s) for i, s in zip((3, 9), saved,
                                                                        strict=True))
    assert annotation.redo() and annotation.object(obj).category == "ball"
    assert (annotation.label_map(9) == obj).sum() == _stroke().sum()
    project.close()


def _stroke() -> np.ndarray:
    mask = np.zeros((480, 854), bool)
    mask[100:140, 200:260] = True
    return mask
