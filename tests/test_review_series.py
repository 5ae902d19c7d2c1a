"""The review plot's per-frame values: flag counts stay right as frames are checked again."""

from __future__ import annotations

from annotator.gui.review_series import ReviewSeries
from annotator.quality.flags import Flag, FlagKind, FrameSignals, ObjectSignals


def signals(index: int, *kinds: tuple[int, FlagKind]) -> FrameSignals:
    objects = {1: ObjectSignals(area=100, confidence=0.9, iou_previous=0.8),
               2: ObjectSignals(area=50, confidence=None, iou_previous=None)}
    flags = tuple(Flag(index, object_id, kind, "planted") for object_id, kind in kinds)
    return FrameSignals(index, f"{index:05d}", objects, flags)


def test_flag_counts_follow_frames_checked_again() -> None:
    series = ReviewSeries()
    series.reset(10)
    series.set_signals([signals(0), signals(3, (1, FlagKind.LOST), (2, FlagKind.OVERLAP)),
                        signals(7, (2, FlagKind.JUMP))])
    assert (series.flag_total, series.flagged_frames(None)) == (3, [3, 7])
    assert series.flagged_frames(1) == [3] and series.flagged_frames(2) == [3, 7]
    assert series.confidence[1][0] == 0.9 and series.iou[1][3] == 0.8

    series.set_signals([signals(3, (1, FlagKind.LOST)), signals(7)])  # re-checked after a fix
    assert (series.flag_total, series.flagged_frames(None)) == (1, [3])
    assert series.flagged_frames(2) == []

    series.reset(10)
    assert (series.flag_total, series.flagged_frames(None)) == (0, [])
