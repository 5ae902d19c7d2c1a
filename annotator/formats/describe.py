"""What a dataset, frame folder or video file holds: layout, videos, frames, objects and their
frame ranges, as plain data (the ``info`` command prints it; the GUI can show it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annotator.formats import lvos
from annotator.formats.frame_ranges import RangeTracker
from annotator.formats.reader import read_video
from annotator.formats.video_labels import object_presence
from annotator.video.dataset import Dataset, open_dataset


def describe(
    path: Path, split: str | None = None, videos: list[str] | None = None, quick: bool = False
) -> dict[str, Any]:
    """What `path` holds (reads every mask of the chosen videos unless `quick` and the meta
    JSON describes the video). Object frame ranges are given as the LVOS meta records them."""
    dataset = open_dataset(path, split=split)
    meta = _meta_videos(dataset) if quick else {}
    report: dict[str, Any] = {
        "path": str(path),
        "layout": dataset.layout,
        "root": str(dataset.root),
        "split": dataset.split,
        "videos": {},
    }
    for name in videos or dataset.videos:
        if name in meta:
            report["videos"][name] = _from_meta(dataset, name, meta[name])
        else:
            report["videos"][name] = _from_masks(dataset, name)
    return report


def _meta_videos(dataset: Dataset) -> dict[str, Any]:
    path = lvos.find_meta(dataset.root, dataset.split)
    if dataset.layout == "lvvis" or path is None:
        return {}
    return lvos.read_meta(path)


def _from_meta(dataset: Dataset, name: str, entry: dict[str, Any]) -> dict[str, Any]:
    with dataset.frames(name, cache_bytes=0) as frames:
        count, size = len(frames), list(frames.size)
    objects = {
        str(key): {
            "category": str(details.get("category", "")),
            **({"frame_range": details["frame_range"]} if "frame_range" in details else {}),
        }
        for key, details in sorted(entry.get("objects", {}).items(), key=lambda kv: int(kv[0]))
    }
    return {
        "frames": count,
        "size": size,
        "annotated_frames": len(dataset.mask_paths(name)),
        "objects": objects,
    }


def _from_masks(dataset: Dataset, name: str) -> dict[str, Any]:
    video = read_video(dataset, name)
    tracker = RangeTracker(video.frame_names)
    for frame in video.annotated():
        tracker.add(frame, object_presence(video.labels[frame]))
    objects = {}
    for object_id in sorted(set(tracker.object_ids) | set(video.objects)):
        info = video.objects.get(object_id)
        entry: dict[str, Any] = {"category": info.category if info else ""}
        if object_id in tracker.first:
            entry["frame_range"] = tracker.frame_range(object_id)
        objects[str(object_id)] = entry
    return {
        "frames": len(video.frame_names),
        "size": [video.height, video.width],
        "annotated_frames": len(tracker.annotated),
        "objects": objects,
    }
