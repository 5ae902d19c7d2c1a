"""A whole review of one video, headless: score its masks against the ground truth where there
is one, check every frame without it (flags), and put it into the report's form with the marks;
then the HTML / CSV report and the overlay video. The `review` command and the GUI's report
both run this (the GUI in a worker).

Typical use::

    inputs = ReviewInputs("bear", MaskFrames(prediction, frame_names), "PNG masks in preds/",
                          truth=truth)
    video = review_one(inputs, frames)
    write_report("report/", [video])
    write_overlay_video("bear.mp4", inputs, frames, video)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from annotator.annotation.marks import QAMark
from annotator.engine.mask_sets import MaskSet, Overlaps
from annotator.engine.qa import PerFrame, check_frames
from annotator.engine.review import LabelSource, review_video
from annotator.formats.palette import davis_palette
from annotator.quality.differences import difference_codes
from annotator.quality.overlay_video import write_video
from annotator.quality.render import captioned, differences, overlay
from annotator.quality.review_report import FrameRow, ReportVideo, write_report
from annotator.video.opening import open_frames
from models.protocols import FrameSequence, ShouldStop

Progress = Callable[[int, int], None]


class MaskFrames:
    """A mask set as a label source over every frame of the video: a frame it has no mask for
    is empty; its overlaps are kept for the checks (the last frame read is remembered, so
    labels and overlaps of one frame cost one read)."""

    def __init__(self, masks: MaskSet, frame_names: Sequence[str]) -> None:
        self.masks = masks
        self._names = list(frame_names)
        self._last: tuple[int, np.ndarray, Overlaps] | None = None

    @property
    def frame_names(self) -> list[str]:
        return self._names

    @property
    def missing(self) -> int:
        """Frames without a mask of their own (taken as empty)."""
        return sum(name not in self.masks for name in self._names)

    def _read(self, index: int) -> tuple[np.ndarray, Overlaps]:
        if self._last is None or self._last[0] != index:
            name = self._names[index]
            if name in self.masks:
                frame = self.masks.frame(name)
                self._last = (index, frame.labels, frame.overlaps)
            else:
                self._last = (index, np.zeros(self.masks.size, np.uint8), {})
        return self._last[1], self._last[2]

    def label_map(self, index: int) -> np.ndarray:
        return self._read(index)[0].copy()

    def overlaps(self, index: int) -> Overlaps:
        return self._read(index)[1]


@dataclass(frozen=True)
class ReviewInputs:
    """What one video's review reads: the masks reviewed and where they come from, the ground
    truth (or None), the engine's confidence per frame and the source's overlaps (where there
    are any), the marks, and the objects' colours (256 x 3 RGB by id) and categories."""

    video: str
    prediction: LabelSource
    prediction_text: str
    truth: MaskSet | None = None
    confidence: PerFrame | None = None
    overlaps: Callable[[int], Overlaps] | None = None
    marks: Mapping[int, QAMark] = field(default_factory=dict)
    colours: np.ndarray = field(default_factory=davis_palette)
    categories: Mapping[int, str] = field(default_factory=dict)
    object_scores: Mapping[int, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def review_one(inputs: ReviewInputs, frames: FrameSequence, progress: Progress | None = None,
               should_stop: ShouldStop | None = None) -> ReportVideo | None:
    """Score and check every frame of one video (one frame in memory at a time); None when
    `should_stop()` turns true."""
    count = len(inputs.prediction.frame_names)
    scored = len(inputs.truth.names) if inputs.truth is not None else 0
    total = scored + count
    scores: dict[int, dict[int, tuple[float, float]]] = {}
    object_ids: set[int] = set()
    if inputs.truth is not None:
        review = review_video(inputs.prediction, inputs.truth,
                              progress=(lambda d, _: progress(d, total)) if progress else None,
                              should_stop=should_stop)
        if review is None:
            return None
        object_ids |= set(review.object_ids)
        scores = {row.index: dict(zip(row.object_ids, zip(row.j, row.f, strict=True),
                                      strict=True)) for row in review.rows}
    signals = check_frames(inputs.prediction, frames, range(count), inputs.confidence,
                           inputs.overlaps,
                           progress=(lambda d, _: progress(scored + d, total)) if progress
                           else None, should_stop=should_stop)
    if signals is None:
        return None
    object_ids |= set(inputs.object_scores)  # a result hidden by others on every frame too
    for frame in signals:
        object_ids |= set(frame.objects)
    names = inputs.prediction.frame_names
    rows = []
    for frame in signals:
        mark = inputs.marks.get(frame.index)
        rows.append(FrameRow(frame.index, names[frame.index], scores.get(frame.index), frame,
                             mark.verdict.label if mark else "", mark.comment if mark else ""))
    return ReportVideo(inputs.video, inputs.prediction_text,
                       inputs.truth.describe() if inputs.truth is not None else None,
                       tuple(sorted(object_ids)), inputs.colours, rows,
                       lambda index: report_picture(inputs, frames, index),
                       inputs.categories, inputs.object_scores, inputs.notes)


def _truth_of(inputs: ReviewInputs, index: int) -> np.ndarray | None:
    name = inputs.prediction.frame_names[index]
    if inputs.truth is None or name not in inputs.truth:
        return None
    return inputs.truth.labels(name)


def report_picture(inputs: ReviewInputs, frames: FrameSequence, index: int) -> np.ndarray:
    """A frame as the report shows it: the masks over it, and beside it, where there is ground
    truth, the differences."""
    frame, labels = frames[index], inputs.prediction.label_map(index)
    shown = overlay(frame, labels, inputs.colours)
    truth = _truth_of(inputs, index)
    if truth is None:
        return shown
    return np.concatenate([shown, differences(frame, difference_codes(labels, truth))], axis=1)


def video_picture(inputs: ReviewInputs, frames: FrameSequence, row: FrameRow) -> np.ndarray:
    """A frame of the overlay video: the masks over it, the differences with the ground truth
    painted on top, and a caption (frame, J&F, flags, mark)."""
    frame, labels = frames[row.index], inputs.prediction.label_map(row.index)
    shown = overlay(frame, labels, inputs.colours)
    truth = _truth_of(inputs, row.index)
    if truth is not None:
        shown = differences(shown, difference_codes(labels, truth), alpha=0.6)
    facts = [f"{inputs.video} {row.name}"]
    if row.jf is not None:
        facts.append(f"J&F {row.jf:.3f}")
    if row.signals is not None and row.signals.flags:
        facts.append(", ".join(sorted({flag.kind.value for flag in row.signals.flags})))
    if row.verdict:
        facts.append(row.verdict)
    return captioned(shown, "  |  ".join(facts))


def write_overlay_video(path: str | Path, inputs: ReviewInputs, frames: FrameSequence,
                        video: ReportVideo, progress: Progress | None = None) -> int:
    """The overlay video of a reviewed video (every frame, in order); returns frames written."""
    total = len(video.rows)
    return write_video(path, (video_picture(inputs, frames, row) for row in video.rows),
                       progress=(lambda done: progress(done, total)) if progress else None)


def write_review(inputs: ReviewInputs, frames_path: Path, folder: Path,
                 video_file: Path | None = None, progress: Progress | None = None) -> list[Path]:
    """Review one video and write its report into `folder` (and its overlay video to
    `video_file`); the frames are opened here, so a worker can run it. Returns the paths
    written."""
    with open_frames(frames_path) as frames:
        video = review_one(inputs, frames, progress)
        assert video is not None  # nothing stops it
        written = []
        if video_file is not None:
            write_overlay_video(video_file, inputs, frames, video, progress)
            written.append(video_file)
        return write_report(folder, [video]) + written
