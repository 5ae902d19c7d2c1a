"""Headless review: ground truth found for a video, frames scored and listed worst first, on a
real DAVIS sequence whose "prediction" is its ground truth damaged on known frames."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from review_helpers import (
    DAMAGED,
    FRAMES,
    HALVED,
    SEQUENCE,
    counted_iou,
    damage,
    truth,
)

from annotator.engine.mask_sets import find_masks
from annotator.engine.review import review_video, score_frame
from annotator.errors import AnnotatorError
from annotator.formats.masks import write_label_map

SIZE = (480, 854)


class Prediction:
    """A model's output held in memory: frame names and one label map per frame."""

    def __init__(self, maps: list[np.ndarray]) -> None:
        self.maps = maps
        self.frame_names = [f"{i:05d}" for i in range(len(maps))]

    def label_map(self, index: int) -> np.ndarray:
        return self.maps[index].copy()


@pytest.fixture(scope="module")
def truths(davis_root):
    return [truth(davis_root, i) for i in range(FRAMES)]


def test_damaged_frames_come_first_with_their_counted_j(davis_root, truths):
    prediction = Prediction([damage(labels, i) for i, labels in enumerate(truths)])
    found = find_masks(davis_root, SEQUENCE, prediction.frame_names, SIZE)
    assert found.source == davis_root / "Annotations" / "480p" / SEQUENCE
    assert list(found.names) == prediction.frame_names  # the clip's 12 of the 82 frames
    review = review_video(prediction, found)
    assert review.object_ids == (1,)
    assert {row.index for row in review.rows[:3]} == DAMAGED
    for row in review.rows[:3]:
        expected = counted_iou(truths[row.index] == 1, prediction.maps[row.index] == 1)
        assert row.j[0] == pytest.approx(expected, abs=1e-12)
        assert row.f[0] < 0.9
        assert row.mean_jf == pytest.approx((row.j[0] + row.f[0]) / 2)
    halved = [row for row in review.rows if row.index in HALVED]
    assert all(0.3 < row.j[0] < 0.7 for row in halved)  # about half the object is left
    assert [row.mean_jf for row in review.rows] == sorted(row.mean_jf for row in review.rows)
    for row in review.rows[3:]:
        assert row.j == (1.0,) and row.f == (1.0,)
    assert review.mean_jf == pytest.approx(np.mean([r.mean_jf for r in review.rows]))
    assert review.mean_jf < 1.0


def test_objects_absent_from_a_frame_and_void(davis_root, truths):
    """Two objects: one missing from the prediction on a frame scores 0 there; where neither
    mask has it, 1. Void pixels of the ground truth never count."""
    gt_maps, pred_maps = [], []
    for i, labels in enumerate(truths[:4]):
        gt = labels.copy()
        if i < 2:  # object 2, the bear's left part, only on frames 0 and 1
            xs = np.nonzero(gt == 1)[1]
            gt[:, : int(np.median(xs))][gt[:, : int(np.median(xs))] == 1] = 2
        pred = gt.copy()
        if i == 1:
            pred[pred == 2] = 0  # the model lost object 2 on frame 1
        if i == 3:  # a void band, and the prediction wrong only inside it
            gt[100:140] = 255
            pred[100:140] = 1
        gt_maps.append(gt)
        pred_maps.append(pred)
    rows = {i: score_frame(i, f"{i:05d}", gt_maps[i], pred_maps[i], (1, 2)) for i in range(4)}
    assert rows[0].j == (1.0, 1.0)
    assert rows[1].j[1] == 0.0 and rows[1].f[1] == 0.0
    assert rows[1].j[0] == pytest.approx(counted_iou(gt_maps[1] == 1, pred_maps[1] == 1))
    assert rows[2].j == (1.0, 1.0) and rows[2].f == (1.0, 1.0)  # object 2 in neither mask
    assert rows[3].j == (1.0, 1.0) and rows[3].f == (1.0, 1.0)  # wrong only where void


def test_ground_truth_folders_and_bad_input(tmp_path, davis_root, truths):
    names = [f"{i:05d}" for i in range(FRAMES)]
    source = davis_root / "Annotations" / "480p" / SEQUENCE
    plain = tmp_path / "plain"  # a bare folder of <frame>.png, only some frames
    plain.mkdir()
    for i in (0, 4, 9):
        shutil.copy(source / f"{i:05d}.png", plain / f"{i:05d}.png")
    found = find_masks(plain, SEQUENCE, names, SIZE)
    assert found.source == plain and list(found.names) == ["00000", "00004", "00009"]
    review = review_video(Prediction(list(truths)), found)
    assert sorted(row.index for row in review.rows) == [0, 4, 9]
    assert all(row.mean_jf == 1.0 for row in review.rows)

    results = tmp_path / "results"  # a model's output folder: <dir>/<video>/<frame>.png
    shutil.copytree(plain, results / SEQUENCE)
    assert find_masks(results, SEQUENCE, names, SIZE).source == results / SEQUENCE

    with pytest.raises(AnnotatorError, match="no masks for video 'kite'") as caught:
        find_masks(davis_root, "kite", names, SIZE)
    assert caught.value.path == davis_root
    with pytest.raises(AnnotatorError, match="own annotation folder"):
        find_masks(results, SEQUENCE, names, SIZE, own_masks=results / SEQUENCE)
    with pytest.raises(AnnotatorError, match="no such folder"):
        find_masks(tmp_path / "missing", SEQUENCE, names, SIZE)
    # a folder of PNGs chosen for one video is no other video's ground truth (its frames may
    # well be named alike); a folder named after the video, or a dataset root, still is
    with pytest.raises(AnnotatorError, match="no masks for video 'boat'"):
        find_masks(plain, "boat", names, SIZE, folder_itself=False)
    assert find_masks(results / SEQUENCE, SEQUENCE, names, SIZE,
                      folder_itself=False).source == results / SEQUENCE
    assert find_masks(davis_root, "boat", names, SIZE, folder_itself=False).source == \
        davis_root / "Annotations" / "480p" / "boat"

    small = tmp_path / "small"  # ground truth of another size: the file is named
    write_label_map(small / "00002.png", np.ones((48, 85), np.uint8))
    wrong = find_masks(small, SEQUENCE, names, SIZE)
    with pytest.raises(AnnotatorError) as caught:
        review_video(Prediction(list(truths)), wrong)
    assert caught.value.path == small / "00002.png"


def test_stops_when_asked(davis_root, truths):
    prediction = Prediction(list(truths))
    found = find_masks(davis_root, SEQUENCE, prediction.frame_names, SIZE)
    seen = []
    result = review_video(prediction, found, progress=lambda d, t: seen.append((d, t)),
                          should_stop=lambda: len(seen) >= 3)
    assert result is None and seen == [(1, FRAMES), (2, FRAMES), (3, FRAMES)]
