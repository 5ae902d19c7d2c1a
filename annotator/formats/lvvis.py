"""LV-VIS / YouTube-VIS 2019 instances JSON (and results JSON), masks as RLE via pycocotools.

Instances file: ``videos`` (id, file_names ``<video>/<frame>.jpg``, length, height, width),
``annotations`` (id, video_id, category_id, one segmentation per listed frame, null where the
object is absent, areas, bboxes [x, y, w, h], iscrowd), ``categories`` (id, name, partition;
see `categories` for the default partition). Only annotated frames are listed in
``file_names`` (YouTube-VIS lists every 5th frame of a clip). Each annotation also carries
this tool's ``object_id`` (and ``caption`` when there is one) so that ids survive a round
trip; readers of the format ignore extra keys.

Written segmentations are compressed RLE; reading accepts compressed RLE, uncompressed RLE
(``counts`` as a list) and polygons. Objects overlapping in the JSON are painted in
annotation order (the later one wins); void (255) has no place in the format and is dropped.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from annotator.errors import AnnotatorError
from annotator.formats.categories import UNNAMED, CategoryTable
from annotator.formats.json_files import expect, read_json, write_json
from annotator.formats.segmentations import decode_segmentation, encode_masks
from annotator.formats.validate import as_dict, as_int, as_list, as_str, image_size
from annotator.formats.video_labels import LazyLabels, ObjectMeta, VideoLabels, object_presence
from annotator.video.dataset import Dataset
from annotator.video.folder import FolderSource


@dataclass
class InstancesVideo:
    """One video of an instances file, keyed by its folder name."""

    id: int
    name: str
    frame_names: list[str]
    file_names: list[str]
    height: int
    width: int
    annotations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class InstancesFile:
    path: Path
    videos: dict[str, InstancesVideo]
    categories: CategoryTable


def read_instances(path: str | Path) -> InstancesFile:
    """Parse and check an LV-VIS / YouTube-VIS instances JSON."""
    path = Path(path)
    data = as_dict(read_json(path), path, "an instances file")
    categories = CategoryTable.from_json_list(data.get("categories", []), path)
    videos: dict[str, InstancesVideo] = {}
    by_id: dict[int, InstancesVideo] = {}
    for entry in as_list(data.get("videos"), path, '"videos"'):
        video = _read_video_entry(entry, path)
        twin = videos.get(video.name) or by_id.get(video.id)
        if twin is not None:
            same = f"name {video.name!r}" if twin.name == video.name else f"id {video.id}"
            raise AnnotatorError(
                f"two videos (ids {twin.id} and {video.id}) have the same {same}; each video "
                "needs its own, or their annotations would be mixed up",
                path,
            )
        videos[video.name] = video
        by_id[video.id] = video
    for number, annotation in enumerate(as_list(data.get("annotations") or [], path,
                                                 '"annotations"')):
        video, annotation = _read_annotation(annotation, number, by_id, path)
        video.annotations.append(annotation)
    return InstancesFile(path, videos, categories)


def _read_video_entry(entry: Any, path: Path) -> InstancesVideo:
    entry = as_dict(entry, path, "bad video entry: it")
    video_id = as_int(entry.get("id"), path, "bad video entry: id")
    where = f"bad video entry (id {video_id}):"
    files = [as_str(f, path, f"{where} a file name")
             for f in as_list(entry.get("file_names"), path, f"{where} file_names")]
    height, width = image_size(entry.get("height"), entry.get("width"), path, where)
    if len(set(files)) != len(files):
        raise AnnotatorError(f"{where} a frame is listed twice in file_names", path)
    return InstancesVideo(
        video_id, _video_name(files, path), [Path(f).stem for f in files], files, height, width
    )


def _read_annotation(
    annotation: Any, number: int, by_id: dict[int, InstancesVideo], path: Path
) -> tuple[InstancesVideo, dict[str, Any]]:
    """An annotation's video and the annotation, its fields checked."""
    annotation = as_dict(annotation, path, f"annotation {number}")
    where = f"annotation {annotation.get('id', number)!r}"
    video_id = as_int(annotation.get("video_id"), path, f"{where}: video_id")
    video = by_id.get(video_id)
    if video is None:
        raise AnnotatorError(f"{where}: no video has id {video_id}", path)
    segmentations = as_list(annotation.get("segmentations"), path, f"{where}: segmentations")
    expect(
        len(segmentations) == len(video.file_names),
        path,
        f"{where}: needs one segmentation per frame ({len(video.file_names)})",
    )
    for segmentation in segmentations:
        if segmentation is not None and not isinstance(segmentation, dict | list):
            raise AnnotatorError(f"{where}: a segmentation must be RLE, polygons or null", path)
    if annotation.get("category_id") is not None:
        as_int(annotation["category_id"], path, f"{where}: category_id")
    if annotation.get("caption") is not None:
        as_str(annotation["caption"], path, f"{where}: caption")
    return video, annotation


def _video_name(files: list[str], path: Path) -> str:
    folders = {Path(f).parent.as_posix() for f in files}
    expect(
        len(folders) == 1 and bool(files),
        path,
        f"a video's file_names must share one folder, got {sorted(folders)[:3]}",
    )
    for name in files:
        parts = Path(name).parts
        if Path(name).is_absolute() or ".." in parts or "\\" in name or len(parts) < 2:
            raise AnnotatorError(f"unsafe file name {name!r}: expected <video>/<frame>", path)
    return Path(files[0]).parent.name


def object_ids_of(video: InstancesVideo) -> list[int]:
    """This tool's object id of each annotation: its ``object_id`` when all are distinct and in
    1..254, else 1, 2, ... in annotation order."""
    given = [a.get("object_id") for a in video.annotations]
    ids = [i for i in given if isinstance(i, int) and 1 <= i <= 254]
    if len(ids) == len(given) and len(set(ids)) == len(ids):
        return ids
    if len(video.annotations) > 254:
        raise AnnotatorError(f"video {video.name!r} has more than 254 objects", video.name)
    return list(range(1, len(video.annotations) + 1))


def video_labels(
    instances: InstancesFile,
    name: str,
    frame_names: list[str] | None = None,
    frame_files: list[str] | None = None,
) -> VideoLabels:
    """A video of an instances file; label maps are decoded from RLE on access.

    `frame_names` are all frames of the video when known (from its frame folder); by default
    only the listed (annotated) frames.
    """
    video = instances.videos.get(name)
    if video is None:
        raise AnnotatorError(f"no video {name!r} in the instances file", instances.path)
    ids = object_ids_of(video)
    position = {n: i for i, n in enumerate(video.frame_names)}
    names = frame_names if frame_names is not None else list(video.frame_names)
    on_disk = set(names)
    missing = [n for n in video.frame_names if n not in on_disk]
    if missing:
        raise AnnotatorError(
            f"video {name!r}: frame {missing[0]!r} is listed but not on disk", instances.path
        )

    def load(frame: str) -> np.ndarray:
        labels = np.zeros((video.height, video.width), np.uint8)
        index = position[frame]
        for object_id, annotation in zip(ids, video.annotations, strict=True):
            segmentation = annotation["segmentations"][index]
            if segmentation:
                mask = decode_segmentation(segmentation, video.height, video.width, instances.path)
                labels[mask] = object_id
        return labels

    objects = {
        object_id: ObjectMeta(
            object_id,
            _category_name(instances.categories, a.get("category_id")),
            str(a.get("caption") or ""),
        )
        for object_id, a in zip(ids, video.annotations, strict=True)
    }
    listed = [n for n in names if n in position]
    return VideoLabels(
        name,
        names,
        video.height,
        video.width,
        LazyLabels(listed, load),
        objects,
        frame_files=frame_files,
    )


@functools.lru_cache(maxsize=2)
def _read_instances_cached(path: str, mtime_ns: int, size: int) -> InstancesFile:
    """One parse per file version, however many of its videos are read."""
    return read_instances(path)


def _category_name(categories: CategoryTable, category_id: Any) -> str:
    name = categories.name_of(int(category_id or 0))  # checked by read_instances
    return "" if name == UNNAMED else name


def read_video(dataset: Dataset, video: str) -> VideoLabels:
    """A video of an LV-VIS dataset (frames from its folder, masks from the instances JSON)."""
    if dataset.instances_json is None:
        raise AnnotatorError("no instances JSON found for this LV-VIS dataset", dataset.root)
    stat = dataset.instances_json.stat()
    instances = _read_instances_cached(str(dataset.instances_json), stat.st_mtime_ns, stat.st_size)
    with dataset.frames(video, cache_bytes=0) as frames:
        names, (height, width) = list(frames.names), frames.size
        files = [p.name for p in frames.files] if isinstance(frames, FolderSource) else None
    labels = video_labels(instances, video, names, files)
    if (labels.height, labels.width) != (height, width):
        raise AnnotatorError(
            f"video {video!r} is {labels.width}x{labels.height} in the instances file but its "
            f"frames are {width}x{height}",
            instances.path,
        )
    return labels


def video_entry(video: VideoLabels, video_id: int) -> dict[str, Any]:
    """The ``videos`` entry: annotated frames, or every frame of a video without annotations
    (as in a test split, where the frames are the input)."""
    annotated = video.annotated() or list(video.frame_names)
    position = {n: i for i, n in enumerate(video.frame_names)}
    files = [f"{video.name}/{video.file_name(position[n])}" for n in annotated]
    return {
        "id": video_id,
        "name": video.name,
        "file_names": files,
        "length": len(files),
        "height": video.height,
        "width": video.width,
    }


def video_annotations(
    video: VideoLabels,
    video_id: int,
    first_annotation_id: int,
    categories: CategoryTable,
    frames: list[str] | None = None,
) -> list[dict[str, Any]]:
    """One annotation per object of `video`, RLE per listed frame (null where absent); the
    listed frames are `frames` (a frame without a label map lists no object) or, by default,
    the annotated ones."""
    annotated = video.annotated() if frames is None else frames
    tracks: dict[int, dict[str, list[Any]]] = {}
    for index, name in enumerate(annotated):
        if name not in video.labels:
            continue
        labels = video.labels[name]
        ids = [int(i) for i in object_presence(labels)]
        for object_id, rle in zip(ids, encode_masks(labels, ids), strict=True):
            track = tracks.setdefault(
                object_id,
                {
                    "segmentations": [None] * len(annotated),
                    "areas": [None] * len(annotated),
                    "bboxes": [None] * len(annotated),
                },
            )
            coco = {"size": rle["size"], "counts": rle["counts"].encode("ascii")}
            track["segmentations"][index] = rle
            track["areas"][index] = int(mask_utils.area(coco))
            track["bboxes"][index] = [float(v) for v in mask_utils.toBbox(coco)]
    annotations = []
    for offset, object_id in enumerate(sorted(tracks)):
        info = video.objects.get(object_id)
        annotation: dict[str, Any] = {
            "id": first_annotation_id + offset,
            "video_id": video_id,
            "category_id": categories.id_for(info.category if info else ""),
            **tracks[object_id],
            "iscrowd": 0,
            "height": video.height,
            "width": video.width,
            "length": 1,
            "object_id": object_id,
        }
        if info is not None and info.caption:
            annotation["caption"] = info.caption
        annotations.append(annotation)
    return annotations


def build_instances(videos: Iterable[VideoLabels], categories: CategoryTable) -> dict[str, Any]:
    """The instances JSON of these videos (ids from 1 in order)."""
    video_entries: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for video_id, video in enumerate(videos, 1):
        video_entries.append(video_entry(video, video_id))
        annotations += video_annotations(video, video_id, len(annotations) + 1, categories)
    return {"videos": video_entries, "annotations": annotations, "categories": categories.to_json()}


def write_instances(path: Path, videos: Iterable[VideoLabels], categories: CategoryTable) -> None:
    write_json(path, build_instances(videos, categories))


def write_results(
    path: Path, instances: Mapping[str, Any], scores: Mapping[int, float] | None = None
) -> None:
    """A results JSON (video_id, score, category_id, segmentations) from an instances dict.

    `scores` maps annotation id -> score (default 1.0).
    """
    results = [
        {
            "video_id": a["video_id"],
            "score": float((scores or {}).get(a["id"], 1.0)),
            "category_id": a["category_id"],
            "segmentations": a["segmentations"],
        }
        for a in instances["annotations"]
    ]
    write_json(path, results)


def read_results(path: str | Path) -> list[dict[str, Any]]:
    """Entries of a results JSON, structure checked (segmentations left encoded)."""
    path = Path(path)
    data = read_json(path)
    expect(isinstance(data, list), path, "a results file must be a list")
    for entry in data:
        ok = isinstance(entry, dict) and all(
            k in entry for k in ("video_id", "score", "category_id", "segmentations")
        )
        expect(
            ok and isinstance(entry["segmentations"], list),
            path,
            "each result needs video_id, score, category_id and a segmentations list",
        )
    return [dict(entry) for entry in data]
