"""LV-VIS / YouTube-VIS results JSON from a model's masks, as the benchmarks' evaluation code
(``loadRes``) and servers take it.

A results file is a list of ``{"video_id", "category_id", "segmentations", "score"}``, one
entry per predicted object, with one segmentation (compressed RLE, or null where the object
is absent) per frame that the ground truth lists for the video. Given the ground-truth
instances file, video ids, listed frames and category ids are taken from it (an object
without a category takes the category of the ground-truth object with the same id); without
it they are what ``convert --to lvvis`` writes for the same videos. Scores come from a JSON
file ``{"<video>": {"<object id>": <score>}}``; an object not in it scores 1.0.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from annotator.errors import AnnotatorError
from annotator.formats.categories import CategoryTable
from annotator.formats.json_files import expect, read_json
from annotator.formats.lvvis import (
    InstancesFile,
    object_ids_of,
    video_annotations,
    write_results,
)
from annotator.formats.video_labels import ObjectMeta, VideoLabels

RESULTS_FILE = "results.json"
Scores = Mapping[str, Mapping[int, float]]


def read_scores(path: str | Path) -> dict[str, dict[int, float]]:
    """Video -> object id -> score, from ``{"<video>": {"<object id>": <score>}}``."""
    path = Path(path)
    data = read_json(path)
    expect(isinstance(data, dict), path, 'expected {"<video>": {"<object id>": <score>}}')
    scores: dict[str, dict[int, float]] = {}
    for video, objects in data.items():
        expect(isinstance(objects, dict), path, f"video {video!r}: expected an object of scores")
        for key, value in objects.items():
            ok = (
                isinstance(key, str)
                and key.isascii()
                and key.isdigit()
                and isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
            )
            expect(ok, path, f"video {video!r}: object {key!r} needs a numeric id and a score")
            scores.setdefault(video, {})[int(key)] = float(value)
    return scores


def _with_reference_categories(
    video: VideoLabels, reference: InstancesFile
) -> tuple[VideoLabels, int, list[str]]:
    """The video (under the frame names the ground truth uses: its own, or those it had
    before an LVOS conversion) with each uncategorised object given its ground-truth object's
    category, its ground-truth video id and listed frames."""
    truth = reference.videos.get(video.name)
    if truth is None:
        raise AnnotatorError(
            f"video {video.name!r} is not in the ground-truth instances file", reference.path
        )
    if not set(truth.frame_names) <= set(video.frame_names):
        video = video.restored()
    unknown = [n for n in truth.frame_names if n not in set(video.frame_names)]
    if unknown:
        raise AnnotatorError(
            f"video {video.name!r}: the ground truth lists frame {unknown[0]!r}, which the "
            "predicted video does not have",
            reference.path,
        )
    truth_names = {
        object_id: reference.categories.name_of(int(annotation.get("category_id") or 0))
        for object_id, annotation in zip(object_ids_of(truth), truth.annotations, strict=True)
    }
    objects = dict(video.objects)
    for object_id, name in truth_names.items():
        known = objects.get(object_id)
        if known is None or not known.category:
            caption = known.caption if known else ""
            objects[object_id] = ObjectMeta(object_id, name, caption)
    return dataclasses.replace(video, objects=objects), truth.id, truth.frame_names


def build_results(
    videos: Iterable[VideoLabels],
    categories: CategoryTable,
    scores: Scores | None = None,
    reference: InstancesFile | None = None,
) -> list[dict[str, Any]]:
    """The results entries of these videos (see the module docstring); with a `reference`
    its categories are used, whatever `categories` holds."""
    table = reference.categories if reference is not None else categories
    annotations: list[dict[str, Any]] = []
    for video_id, video in enumerate(videos, 1):
        frames: list[str] | None = None
        if reference is not None:
            video, video_id, frames = _with_reference_categories(video, reference)
        found = video_annotations(video, video_id, len(annotations) + 1, table, frames)
        for annotation in found:
            annotation["score"] = (scores or {}).get(video.name, {}).get(
                annotation["object_id"], 1.0
            )
        annotations += found
    return annotations


def write_model_results(
    path: Path,
    videos: Iterable[VideoLabels],
    categories: CategoryTable,
    scores: Scores | None = None,
    reference: InstancesFile | None = None,
) -> None:
    """Write the results JSON of these videos at `path`."""
    annotations = build_results(videos, categories, scores, reference)
    write_results(
        path, {"annotations": annotations}, {a["id"]: a["score"] for a in annotations}
    )
