"""VideoAnnotation: objects, label maps, frame states, undo/redo, notifications, memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator.annotation import ChangeEvent, FrameState, VideoAnnotation
from annotator.annotation.marks import QAMark, Verdict
from annotator.formats.masks import read_label_map
from annotator.formats.palette import object_colour

H, W = 48, 64


def _box(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    mask = np.zeros((H, W), bool)
    mask[y0:y1, x0:x1] = True
    return mask


@pytest.fixture
def video() -> VideoAnnotation:
    return VideoAnnotation([f"{i:05d}" for i in range(12)], H, W)


def test_objects_get_ids_colours_and_details(video: VideoAnnotation) -> None:
    cat = video.add_object("cat", "a grey cat")
    dog = video.add_object("dog")
    assert (cat.id, dog.id) == (1, 2)
    assert cat.colour == (128, 0, 0) and dog.colour == (0, 128, 0)  # DAVIS palette
    seven = video.add_object(object_id=7)
    assert video.add_object().id == 3  # lowest free id
    with pytest.raises(ValueError, match="already exists"):
        video.add_object(object_id=7)
    with pytest.raises(ValueError, match=r"1..254"):
        video.add_object(object_id=255)
    video.update_object(seven.id, category="bird", colour=(1, 2, 3))
    assert video.object(7).category == "bird" and video.object(7).colour == (1, 2, 3)
    video.undo()
    assert video.object(7).category == "" and video.object(7).colour == object_colour(7)


def test_paint_takes_pixels_and_marks_keyframes(video: VideoAnnotation) -> None:
    a, b = video.add_object().id, video.add_object().id
    video.paint(0, a, _box(0, 20, 0, 20))
    video.paint(0, b, _box(10, 30, 10, 30))
    labels = video.label_map(0)
    assert (labels == a).sum() == 400 - 100 and (labels == b).sum() == 400
    assert video.state(0, a) == video.state(0, b) == FrameState.KEYFRAME
    assert video.state(1, a) == FrameState.EMPTY
    assert video.keyframe_indices() == [0]
    labels[:] = 0  # label_map gives a copy
    assert (video.label_map(0) == b).sum() == 400
    video.erase(0, _box(0, 48, 0, 15), object_id=b)  # only b's pixels under the eraser
    assert (video.label_map(0) == a).sum() == 300
    assert (video.label_map(0) == b).sum() == 400 - 5 * 20


def test_propagation_never_overwrites_a_persons_work(video: VideoAnnotation) -> None:
    a, b = video.add_object().id, video.add_object().id
    video.paint(5, a, _box(0, 10, 0, 10))
    proposal = np.zeros((H, W), np.uint8)
    proposal[0:20, 0:20] = b  # tries to cover a's keyframe pixels
    proposal[30:40, 30:40] = a  # a is a keyframe here: it may not gain pixels either
    proposal[40:44, 40:44] = 99  # not an object: dropped
    video.apply_propagated(5, proposal)
    labels = video.label_map(5)
    assert (labels == a).sum() == 100 and (labels[0:10, 0:10] == a).all()
    assert (labels == b).sum() == 400 - 100 and (labels == 99).sum() == 0
    assert video.state(5, a) == FrameState.KEYFRAME and video.state(5, b) == FrameState.PROPAGATED

    video.apply_propagated(6, proposal)
    assert video.state(6, a) == FrameState.PROPAGATED and video.state(6, b) == FrameState.PROPAGATED
    video.apply_propagated(6, np.zeros((H, W), np.uint8), object_ids=[b])
    assert video.state(6, b) == FrameState.EMPTY and video.state(6, a) == FrameState.PROPAGATED
    assert (video.label_map(6) == a).sum() == 100  # a was not propagated this time: kept

    video.paint(6, b, _box(45, 48, 0, 3))  # a person touches a propagated frame: edited
    assert video.state(6, b) == FrameState.KEYFRAME  # b was empty there: a plain keyframe
    video.erase(6, _box(30, 35, 30, 40))  # a was propagated there and the person erased part
    assert video.state(6, a) == FrameState.EDITED
    video.apply_propagated(6, np.zeros((H, W), np.uint8))
    assert (video.label_map(6) == a).sum() == 50  # edited frames are kept too
    assert video.keyframe_indices() == [5, 6] and video.keyframe_indices([a]) == [5, 6]
    assert sorted(video.keyframes()) == [5, 6]


def test_transaction_is_one_undo_step(video: VideoAnnotation) -> None:
    a = video.add_object().id
    proposal = np.zeros((H, W), np.uint8)
    proposal[5:15, 5:15] = a
    with video.transaction("propagate 1..10"):
        for index in range(1, 11):
            video.apply_propagated(index, proposal)
    assert video.history.undo_name == "propagate 1..10"
    assert video.undo()
    assert all(not video.label_map(i).any() for i in range(12))
    assert all(video.state(i, a) == FrameState.EMPTY for i in range(12))
    assert video.redo()
    assert all((video.label_map(i) == a).sum() == 100 for i in range(1, 11))
    assert video.state(3, a) == FrameState.PROPAGATED


def test_transactions_of_one_group_are_one_undo_step(video: VideoAnnotation) -> None:
    """A pass applied in slices (one transaction per event-loop turn) undoes at once; a
    person's step between two groups stays its own."""
    a = video.add_object().id
    proposal = np.zeros((H, W), np.uint8)
    proposal[5:15, 5:15] = a
    first, second = object(), object()
    for index in range(1, 7):
        with video.transaction("propagate forward", first):
            video.apply_propagated(index, proposal)
    video.paint(0, a, _box(20, 30, 20, 30))
    for index in range(7, 12):
        with video.transaction("propagate backward", second):
            video.apply_propagated(index, proposal)
    assert video.history.undo_name == "propagate backward"
    assert video.undo()
    assert all(not video.label_map(i).any() for i in range(7, 12))
    assert (video.label_map(6) == a).sum() == 100
    assert video.history.undo_name == "paint"
    assert video.undo()
    assert video.history.undo_name == "propagate forward"
    assert video.undo()
    assert all(not video.label_map(i).any() for i in range(1, 7))
    assert video.history.undo_name == "add object"


def test_propagation_confidence_is_kept_while_the_mask_is_the_propagated_one(
    video: VideoAnnotation,
) -> None:
    a, b = video.add_object().id, video.add_object().id
    proposal = np.zeros((H, W), np.uint8)
    proposal[5:15, 5:15] = a
    proposal[30:40, 30:40] = b
    video.apply_propagated(3, proposal, confidence={a: 0.9, b: 0.25})
    video.apply_propagated(4, proposal, object_ids=[b], confidence={a: 0.9, b: 0.5})
    assert video.confidence(3) == {a: 0.9, b: 0.25}
    assert video.confidence(4) == {b: 0.5}  # a was not propagated there
    video.paint(3, a, _box(0, 2, 0, 2))  # a person touches a: edited, no longer the engine's
    assert video.confidence(3) == {b: 0.25}
    assert video.confidence(5) == {}


def test_unsaved_state_has_one_owner(video: VideoAnnotation) -> None:
    a = video.add_object().id
    video.paint(2, a, _box(0, 5, 0, 5))
    frames, meta = video.begin_save()
    assert (frames, meta) == ([2], True) and not video.is_dirty
    video.paint(7, a, _box(0, 5, 0, 5))  # a change while the save runs
    video.mark_unsaved(frames, meta)  # the save failed
    assert video.dirty_frames == {2, 7} and video.meta_dirty
    with pytest.raises(AttributeError):
        video.dirty_frames = set()  # type: ignore[misc]


def test_remove_and_merge_objects_undo_exactly(video: VideoAnnotation) -> None:
    a, b, c = (video.add_object(category=name).id for name in "abc")
    video.paint(0, a, _box(0, 10, 0, 10))
    video.paint(0, b, _box(20, 30, 20, 30))
    video.paint(3, b, _box(0, 5, 0, 5))
    proposal = np.zeros((H, W), np.uint8)
    proposal[40:45, 40:45] = c
    video.apply_propagated(4, proposal)
    before = [video.label_map(i) for i in range(12)]

    video.merge_objects(a, b)
    assert b not in video.objects
    assert (video.label_map(0) == a).sum() == 200 and (video.label_map(3) == a).sum() == 25
    assert video.state(3, a) == FrameState.KEYFRAME
    video.remove_object(c)
    assert not video.label_map(4).any() and c not in video.objects
    assert video.undo() and video.undo()
    assert all(np.array_equal(video.label_map(i), before[i]) for i in range(12))
    assert video.objects[b].category == "b" and video.state(3, b) == FrameState.KEYFRAME
    assert video.state(4, c) == FrameState.PROPAGATED
    assert video.redo() and video.redo() and not video.can_redo
    assert set(video.objects) == {a}


def test_undo_redo_walks_every_change_back_and_forth(video: VideoAnnotation) -> None:
    rng = np.random.default_rng(3)
    ids = [video.add_object().id for _ in range(3)]
    snapshots = [[video.label_map(i) for i in range(12)]]
    for _ in range(25):
        frame, obj = int(rng.integers(12)), int(rng.choice(ids))
        y, x = rng.integers(0, 40, 2)
        if rng.random() < 0.7:
            video.paint(frame, obj, _box(y, y + 8, x, x + 12))
        else:
            video.erase(frame, _box(y, y + 8, x, x + 12))
        snapshot = [video.label_map(i) for i in range(12)]
        if any(not np.array_equal(a, b) for a, b in zip(snapshot, snapshots[-1], strict=True)):
            snapshots.append(snapshot)  # a stroke that changes nothing is no undo step
    assert len(snapshots) > 15
    for expected in reversed(snapshots[:-1]):
        assert video.undo()
        assert all(np.array_equal(video.label_map(i), expected[i]) for i in range(12))
    assert video.history.undo_name == "add object"  # only the objects are left to undo
    assert video.history.redo_name in ("paint", "erase")
    for expected in snapshots[1:]:
        assert video.redo()
        assert all(np.array_equal(video.label_map(i), expected[i]) for i in range(12))


def test_undo_history_is_bounded_in_bytes() -> None:
    video = VideoAnnotation([str(i) for i in range(4)], 480, 854, max_undo_bytes=200_000)
    obj = video.add_object().id
    rng = np.random.default_rng(0)
    for step in range(60):
        noise = rng.random((480, 854)) < 0.3  # incompressible strokes: about 50 KB per step
        video.paint(step % 4, obj, noise)
        assert video.history.nbytes <= 200_000 + 120_000  # only the newest step may exceed
    steps = 0
    while video.undo():
        steps += 1
    assert 1 <= steps < 10


def test_long_video_stays_small() -> None:
    video = VideoAnnotation([f"{i:08d}" for i in range(10_000)], 480, 854)
    obj = video.add_object().id
    proposal = np.zeros((480, 854), np.uint8)
    proposal[100:300, 200:500] = obj
    with video.transaction("propagate"):
        for index in range(0, 10_000, 40):
            video.apply_propagated(index, proposal)
    # 250 raw label maps would take 100 MB; held: a few decompressed working frames (2.5 MB)
    # plus a few KB per changed frame (compressed label map and undo patch)
    assert video.nbytes < 4 * 2**20
    assert video.frame_range(obj) == (0, 9960)
    assert video.state(9960, obj) == FrameState.PROPAGATED


def test_change_notifications(video: VideoAnnotation) -> None:
    events: list[ChangeEvent] = []
    unsubscribe = video.subscribe(events.append)
    obj = video.add_object().id
    assert events[-1].objects_changed and events[-1].objects == {obj}
    video.paint(2, obj, _box(0, 4, 0, 4))
    assert (events[-1].reason, events[-1].frames, events[-1].objects) == ("paint", {2}, {obj})
    video.undo()
    assert events[-1].reason == "undo" and events[-1].frames == {2}
    count = len(events)
    video.paint(2, obj, np.zeros((H, W), bool))  # changes nothing: no event, no undo step
    assert len(events) == count and video.history.undo_name == "add object"
    unsubscribe()
    video.paint(3, obj, _box(0, 4, 0, 4))
    assert len(events) == count


def test_set_state_promotes_an_edited_frame_and_undoes(video: VideoAnnotation) -> None:
    obj = video.add_object().id
    video.paint(1, obj, _box(0, 4, 0, 4))
    video.apply_propagated(2, video.label_map(1))
    video.paint(2, obj, _box(10, 12, 10, 12))  # a fix on a propagated frame: edited
    assert video.state(2, obj) == FrameState.EDITED
    events: list[ChangeEvent] = []
    video.subscribe(events.append)
    revision = video.meta_revision
    video.set_state(2, obj, FrameState.KEYFRAME)
    assert video.state(2, obj) == FrameState.KEYFRAME and video.meta_revision > revision
    assert events[-1].frames == {2} and events[-1].objects == {obj}
    assert video.history.undo_name == "set state"
    video.undo()
    assert video.state(2, obj) == FrameState.EDITED
    assert video.keyframe_indices() == [1, 2]
    with pytest.raises(KeyError, match="no object 9"):
        video.set_state(2, 9, FrameState.KEYFRAME)


def test_state_dict_round_trip(video: VideoAnnotation) -> None:
    obj = video.add_object("cat", "the cat on the left").id
    video.paint(1, obj, _box(0, 4, 0, 4))
    video.apply_propagated(2, video.label_map(1), confidence={obj: 0.62})
    video.apply_propagated(3, video.label_map(1), confidence={obj: 1.0})
    video.set_mark(2, QAMark(Verdict.NEEDS_FIX, "check the tail"))
    video.set_mark(3, QAMark(Verdict.ACCEPTED))
    copy = VideoAnnotation(video.frame_names, H, W)
    copy.load_state_dict(video.state_dict())
    assert copy.objects == video.objects
    assert [copy.state(i, obj) for i in range(12)] == [video.state(i, obj) for i in range(12)]
    assert copy.marks == {2: QAMark(Verdict.NEEDS_FIX, "check the tail"),
                          3: QAMark(Verdict.ACCEPTED)}
    # the propagator's confidence is kept to 1/250 (one byte a frame in the state file)
    assert copy.confidence(2) == {obj: pytest.approx(0.62, abs=0.002)}
    assert copy.confidence(3) == {obj: 1.0} and copy.confidence(4) == {}
    # a note written before marks had verdicts is a frame that needs a fix
    old = {**video.state_dict(), "marks": {video.frame_names[5]: "seen"}}
    copy.load_state_dict(old)
    assert copy.marks == {5: QAMark(Verdict.NEEDS_FIX, "seen")}


def test_bad_input_is_refused(video: VideoAnnotation, davis_root: Path) -> None:
    obj = video.add_object().id
    with pytest.raises(ValueError, match="mask is"):
        video.paint(0, obj, np.zeros((H + 1, W), bool))
    with pytest.raises(KeyError):
        video.paint(0, 9, _box(0, 1, 0, 1))
    with pytest.raises(IndexError):
        video.label_map(12)
    real = read_label_map(davis_root / "Annotations/480p/bear/00000.png")
    with pytest.raises(ValueError, match="uint8"):
        video.set_label_map(0, real)
