"""One video's masks read from files, by frame name: a prediction or a ground truth given as a
folder of palette PNGs, a dataset root that holds the video's folder, or an LV-VIS /
YouTube-VIS JSON (instances, or a model's results). Nothing is read until a frame is asked for.

A results JSON names videos by id only and lists one segmentation per frame of the video's
entry in the instances file; so it is read with that file (the ground truth's, or the LV-VIS
dataset's), or, for a single video, with one segmentation per frame of the open video. Its
instances become objects 1, 2, ... by falling score (those under `min_score` are left out),
or keep their ``object_id`` when every one has a distinct valid one; a higher score wins a
pixel two instances claim, and those shared pixels are counted as overlaps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from annotator.errors import AnnotatorError
from annotator.formats.atomic import safe_join
from annotator.formats.json_files import read_json
from annotator.formats.lvvis import (
    InstancesFile,
    read_instances,
    read_results,
    video_labels,
)
from annotator.formats.masks import read_label_map
from annotator.formats.segmentations import decode_segmentation
from annotator.video.dataset import DAVIS_RESOLUTIONS, SPLIT_NAMES, png_files

DEFAULT_MIN_SCORE = 0.5
PNG_MASKS = "PNG masks"  # the kind of a mask set read from a folder
Overlaps = dict[tuple[int, int], int]


@dataclass(frozen=True)
class MaskFrame:
    """One frame of a mask set: its label map and the pixels its source gave two objects."""

    labels: np.ndarray
    overlaps: Overlaps = field(default_factory=dict)


@dataclass(frozen=True)
class MaskSet:
    """The masks of one video from `source`: the frames `names` (in video order) that have
    one, each read on access; `scores`: a results JSON's score per object."""

    source: Path
    names: tuple[str, ...]
    size: tuple[int, int]
    read: Callable[[str], MaskFrame] = field(repr=False)
    scores: Mapping[int, float] = field(default_factory=dict)
    kind: str = PNG_MASKS
    _names: frozenset[str] = field(init=False, repr=False, compare=False)

    def labels(self, name: str) -> np.ndarray:
        """The label map of frame `name` (AnnotatorError names a bad file)."""
        return self.read(name).labels

    def frame(self, name: str) -> MaskFrame:
        return self.read(name)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __post_init__(self) -> None:
        object.__setattr__(self, "_names", frozenset(self.names))

    def describe(self) -> str:
        return f"{self.kind} in {self.source} ({len(self.names)} frames)"


def mask_folder_candidates(path: Path, video: str, folder_itself: bool = True) -> list[Path]:
    """Folders that may hold `video`'s masks under `path`, most specific first: the folder
    itself (unless not `folder_itself`), ``<path>/<video>``, ``Annotations/<video>``, the DAVIS
    resolution folders and the split folders."""
    candidates = [path] if folder_itself else []
    candidates += [safe_join(path, video), safe_join(path, "Annotations", video)]
    candidates += [safe_join(path, "Annotations", res, video) for res in DAVIS_RESOLUTIONS]
    for split in SPLIT_NAMES:
        candidates.append(safe_join(path, "Annotations", split, video))
        candidates.append(safe_join(path, split, "Annotations", video))
    return candidates


@dataclass(frozen=True)
class MaskSource:
    """A path of masks opened once (a JSON parsed once) for the videos that follow: a folder
    (of PNGs, or a dataset root), an instances JSON, or a results JSON with the instances
    file that maps its video ids (or None)."""

    path: Path
    instances: InstancesFile | None = None  # the parsed file: masks, or the results' map
    results: list[dict[str, Any]] | None = None
    min_score: float = DEFAULT_MIN_SCORE

    def for_video(self, video: str, frame_names: Sequence[str], size: tuple[int, int], *,
                  own_masks: Path | None = None, folder_itself: bool = True) -> MaskSet:
        """The masks of `video` matched to `frame_names` by name (see `find_masks`)."""
        if self.results is not None:
            return _results_masks(self.path, self.results, video, frame_names, size,
                                  self.instances, self.min_score)
        if self.instances is not None:
            return _instances_masks(self.instances, video, frame_names, size)
        return _folder_masks(self.path, video, frame_names, size, own_masks, folder_itself)


def open_masks(path: str | Path, instances: InstancesFile | None = None,
               min_score: float = DEFAULT_MIN_SCORE) -> MaskSource:
    """A folder of masks, or an LV-VIS JSON read and checked now; `instances` maps a results
    file's video ids."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".json":
        if isinstance(read_json(path), dict):  # an instances file: truth, or an annotation
            return MaskSource(path, read_instances(path))
        return MaskSource(path, instances, read_results(path), min_score)
    if not path.is_dir():
        raise AnnotatorError("no such folder (or LV-VIS JSON) of masks", path)
    return MaskSource(path)


def find_masks(
    path: str | Path,
    video: str,
    frame_names: Sequence[str],
    size: tuple[int, int],
    *,
    own_masks: Path | None = None,
    folder_itself: bool = True,
    instances: InstancesFile | None = None,
    min_score: float = DEFAULT_MIN_SCORE,
) -> MaskSet:
    """The masks of `video` at `path` (see the module docstring), matched to `frame_names` by
    name. `own_masks` (the open video's own annotation folder) is refused; without
    `folder_itself` a folder of PNGs counts only when it is named after the video (a folder
    chosen for one video is not another video's); `instances` maps a results JSON's video ids
    to videos and frames."""
    return open_masks(path, instances, min_score).for_video(
        video, frame_names, size, own_masks=own_masks, folder_itself=folder_itself)


def _folder_masks(path: Path, video: str, frame_names: Sequence[str], size: tuple[int, int],
                  own_masks: Path | None, folder_itself: bool) -> MaskSet:
    wanted = set(frame_names)
    own = own_masks.resolve() if own_masks is not None else None
    itself = folder_itself or path.name == video
    for folder in mask_folder_candidates(path, video, itself):
        stems = png_files(folder)
        matched = {name: p for name, p in stems.items() if name in wanted}
        if not matched:
            continue
        if own is not None and folder.resolve() == own:
            raise AnnotatorError(
                "this is the video's own annotation folder; pick the masks to compare with",
                folder)
        return _png_masks(folder, {name: matched[name] for name in frame_names
                                   if name in matched}, size)
    raise AnnotatorError(
        f"no masks for video {video!r}: expected PNGs named like its frames "
        f"({frame_names[0]}.png …) here, in {video}/ or in Annotations/{video}/",
        path,
    )


def _png_masks(folder: Path, paths: dict[str, Path], size: tuple[int, int]) -> MaskSet:
    height, width = size
    return MaskSet(folder, tuple(paths), (height, width),
                   lambda name: MaskFrame(read_label_map(paths[name], (height, width))))


def _instances_masks(instances: InstancesFile, video: str, frame_names: Sequence[str],
                     size: tuple[int, int]) -> MaskSet:
    labels = video_labels(instances, video, list(frame_names))
    if (labels.height, labels.width) != size:
        raise AnnotatorError(f"video {video!r} is {labels.width}x{labels.height} here but its "
                             f"frames are {size[1]}x{size[0]}", instances.path)
    maps = labels.labels
    return MaskSet(instances.path, tuple(labels.annotated()), size,
                   lambda name: MaskFrame(maps[name]), kind="LV-VIS instances")


def _results_masks(path: Path, entries: list[dict[str, Any]], video: str,
                   frame_names: Sequence[str], size: tuple[int, int],
                   instances: InstancesFile | None, min_score: float) -> MaskSet:
    listed, video_id = _listed_frames(path, entries, video, frame_names, instances)
    mine = [e for e in entries if _int(e.get("video_id")) == video_id]
    for entry in mine:
        if len(entry["segmentations"]) != len(listed):
            raise AnnotatorError(
                f"a result of video {video!r} has {len(entry['segmentations'])} segmentations "
                f"for its {len(listed)} listed frames", path)
    kept = sorted((e for e in mine if _score(e, path) >= min_score),
                  key=lambda e: -_score(e, path))[:254]
    ids = _object_ids(kept)
    scores = {object_id: _score(e, path) for object_id, e in zip(ids, kept, strict=True)}
    position = {name: i for i, name in enumerate(listed)}
    height, width = size

    def read(name: str) -> MaskFrame:
        labels = np.zeros(size, np.uint8)
        owner = np.zeros(size, np.uint8)  # which instance claimed a pixel first
        overlaps: Overlaps = {}
        for object_id, entry in zip(ids, kept, strict=True):  # falling score: first wins
            segmentation = entry["segmentations"][position[name]]
            if not segmentation:
                continue
            mask = decode_segmentation(segmentation, height, width, path)
            taken = owner[mask]
            for other in np.unique(taken[taken != 0]).tolist():
                pair = (min(object_id, other), max(object_id, other))
                overlaps[pair] = overlaps.get(pair, 0) + int(np.count_nonzero(taken == other))
            free = mask & (owner == 0)
            owner[free] = object_id
            labels[free] = object_id
        return MaskFrame(labels, overlaps)

    return MaskSet(path, tuple(listed), size, read, scores, kind="LV-VIS results")


def _listed_frames(path: Path, entries: list[dict[str, Any]], video: str,
                   frame_names: Sequence[str], instances: InstancesFile | None,
                   ) -> tuple[list[str], int]:
    """The frames a results file lists for `video` and the video's id there."""
    if instances is not None:
        known = instances.videos.get(video)
        if known is None:
            raise AnnotatorError(f"video {video!r} is not in the instances file that maps the "
                                 "results' video ids", instances.path)
        missing = [n for n in known.frame_names if n not in set(frame_names)]
        if missing:
            raise AnnotatorError(f"the instances file lists frame {missing[0]!r} of video "
                                 f"{video!r}, which its frames do not have", instances.path)
        return list(known.frame_names), known.id
    video_ids = {_int(e.get("video_id")) for e in entries}
    lengths = {len(e["segmentations"]) for e in entries}
    only = video_ids.pop() if len(video_ids) == 1 else None
    if only is not None and lengths == {len(frame_names)}:
        return list(frame_names), only
    raise AnnotatorError(
        "a results file names videos by id only: give the instances JSON that lists them "
        "(as the ground truth, or open the frames from the LV-VIS dataset root)", path)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _score(entry: dict[str, Any], path: Path) -> float:
    score = entry.get("score")
    if not isinstance(score, int | float) or isinstance(score, bool):
        raise AnnotatorError(f"a result has a score of {score!r}", path)
    return float(score)


def _object_ids(entries: list[dict[str, Any]]) -> list[int]:
    """Each instance's ``object_id`` when all are distinct and in 1..254, else 1, 2, ..."""
    given = [e.get("object_id") for e in entries]
    ids = [i for i in given if isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= 254]
    if len(ids) == len(given) and len(set(ids)) == len(ids):
        return ids
    return list(range(1, len(entries) + 1))


def matched_to(prediction: MaskSet, truth: MaskSet,
               progress: Callable[[int, int], None] | None = None) -> MaskSet:
    """The prediction with each object renumbered as the ground-truth object it overlaps most
    over the frames both have (one to one, the highest summed IoU: a results file's instances
    have no order of their own); unmatched ones take the ids after the truth's."""
    common = [name for name in prediction.names if name in truth]
    joint = np.zeros((256, 256), np.int64)  # predicted id x true id -> pixels
    for done, name in enumerate(common, 1):
        pair = prediction.labels(name).astype(np.int64) * 256 + truth.labels(name)
        joint += np.bincount(pair.ravel(), minlength=256 * 256).reshape(256, 256)
        if progress is not None:
            progress(done, len(common))
    joint[:, 255] = 0  # void in the truth counts for neither
    predicted = np.flatnonzero(joint[1:255].sum(axis=1)) + 1
    true_ids = np.flatnonzero(joint[:, 1:255].sum(axis=0)) + 1
    inter = joint[np.ix_(predicted, true_ids)].astype(float)
    union = joint[predicted].sum(axis=1)[:, None] + joint[:, true_ids].sum(axis=0)[None, :]
    iou = inter / np.maximum(union - inter, 1)
    rows, cols = linear_sum_assignment(-iou)
    lut = np.arange(256, dtype=np.uint8)
    taken: set[int] = set()
    for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
        if iou[row, col] > 0:
            lut[predicted[row]] = true_ids[col]
            taken.add(int(predicted[row]))
    spare = iter(range(int(true_ids.max(initial=0)) + 1, 255))
    for object_id in predicted.tolist():
        if object_id not in taken:
            lut[object_id] = next(spare, object_id)

    def read(name: str) -> MaskFrame:
        frame = prediction.frame(name)
        overlaps = {(int(min(lut[a], lut[b])), int(max(lut[a], lut[b]))): shared
                    for (a, b), shared in frame.overlaps.items()}
        return MaskFrame(lut[frame.labels], overlaps)

    scores = {int(lut[object_id]): score for object_id, score in prediction.scores.items()}
    return MaskSet(prediction.source, prediction.names, prediction.size, read, scores,
                   kind=f"{prediction.kind}, objects matched to the ground truth")
