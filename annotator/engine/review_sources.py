"""What the `review` command reviews: for each video of FRAMES (a frame folder, a video file
or a dataset root), its masks in PRED and its ground truth in GT (each a folder of PNGs per
video, a dataset root or an LV-VIS JSON), with the marks and confidence this tool saved when
PRED is a dataset it annotated."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from annotator.annotation.marks import QAMark
from annotator.annotation.serialization import decode_state
from annotator.annotation.state_file import read_state
from annotator.engine.mask_sets import (
    DEFAULT_MIN_SCORE,
    PNG_MASKS,
    MaskSet,
    MaskSource,
    matched_to,
    open_masks,
)
from annotator.engine.review_run import MaskFrames, ReviewInputs
from annotator.errors import AnnotatorError
from annotator.formats.lvvis import InstancesFile, read_instances
from annotator.video.dataset import Dataset, open_dataset
from annotator.video.source import FrameSource


@dataclass
class ReviewSources:
    """FRAMES, PRED and GT opened once, for the videos that follow."""

    dataset: Dataset
    prediction: MaskSource
    truth: MaskSource | None
    notes: list[str]

    @property
    def videos(self) -> list[str]:
        """The videos to review: the one whose frame folder FRAMES is, else all."""
        return [self.dataset.selected] if self.dataset.selected else list(self.dataset.videos)


def open_sources(pred: str | Path, frames: str | Path, gt: str | Path | None = None,
                 min_score: float = DEFAULT_MIN_SCORE) -> ReviewSources:
    """Open FRAMES, PRED and GT; a results JSON's video ids are mapped through the ground
    truth's instances file, else the LV-VIS dataset's."""
    dataset = open_dataset(frames)
    truth = open_masks(gt) if gt is not None else None
    instances: InstancesFile | None = truth.instances if truth is not None else None
    if instances is None and dataset.instances_json is not None:
        instances = read_instances(dataset.instances_json)
    return ReviewSources(dataset, open_masks(pred, instances, min_score), truth, [])


def videos_to_review(sources: ReviewSources) -> Iterator[tuple[ReviewInputs, FrameSource]]:
    """Each video of FRAMES that PRED has masks for, with its frames (open until the next
    video is asked for); a video PRED has no masks for is skipped with a note, and a video
    without ground truth is reviewed without it. AnnotatorError when PRED has none at all."""
    dataset, found = sources.dataset, 0
    single = len(sources.videos) == 1
    for video in sources.videos:
        frames = dataset.frames(video)
        try:
            names, size = list(frames.names), frames.size
            try:
                masks = sources.prediction.for_video(video, names, size, folder_itself=single)
            except AnnotatorError as exc:
                if single:
                    raise
                sources.notes.append(f"{video}: skipped ({exc})")
                continue
            found += 1
            yield _inputs(sources, video, names, size, masks), frames
        finally:
            frames.close()
    if not found:
        raise AnnotatorError("no masks for any video of the frames", sources.prediction.path)


def _inputs(sources: ReviewSources, video: str, names: list[str], size: tuple[int, int],
            masks: MaskSet) -> ReviewInputs:
    truth, notes = None, []
    if sources.truth is not None:
        try:
            truth = sources.truth.for_video(video, names, size,
                                            folder_itself=len(sources.videos) == 1)
        except AnnotatorError as exc:
            notes.append(f"no ground truth: {exc}")
    if truth is not None and sources.prediction.results is not None and not _has_ids(sources):
        masks = matched_to(masks, truth)
    prediction = MaskFrames(masks, names)
    if prediction.missing:
        notes.append(f"{prediction.missing} of {len(names)} frames have no mask in "
                     f"{masks.source}: taken as empty")
    marks, confidence = saved_review(masks, video, names)
    return ReviewInputs(
        video, prediction, masks.describe(), truth,
        confidence=(lambda i: {o: float(v[i]) for o, v in confidence.items()
                               if v[i] == v[i]}) if confidence else None,
        overlaps=prediction.overlaps if sources.prediction.results is not None else None,
        marks=marks, object_scores=masks.scores, notes=tuple(notes))


def _has_ids(sources: ReviewSources) -> bool:
    results = sources.prediction.results or []
    return bool(results) and all("object_id" in entry for entry in results)


def saved_review(masks: MaskSet, video: str, names: list[str],
                 ) -> tuple[dict[int, QAMark], dict[int, np.ndarray]]:
    """The marks and per-object confidence this tool saved for `video` when the masks are
    the ``Annotations/<video>`` (or ``Annotations/<resolution>/<video>``) folder of a dataset
    it annotated; else none."""
    folder = masks.source
    if masks.kind != PNG_MASKS or folder.name != video:
        return {}, {}
    above = [parent for parent in folder.parents[:2] if parent.name == "Annotations"]
    data = read_state(above[0].parent, video, names) if above else None  # checked; else named
    if data is None:
        return {}, {}
    saved = decode_state(data, names)
    return saved.marks, saved.confidence
