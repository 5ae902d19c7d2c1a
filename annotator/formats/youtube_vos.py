"""``Annotations_convert``: the YouTube-VOS validation format that LVOS tools produce.

For each video a PNG is written only on frames where some object first appears, and that PNG
holds only the objects new on that frame (everything else is background), as LVOS-api's
``tools/convert_mask_for_eval.py`` makes it. A ``meta.json`` in the YouTube-VOS style lists,
for each object, its category (``object`` when it has none), the frames where it is present
(``frames``, which the YouTube-VOS loaders read: the first one is where its mask is given)
and the LVOS ``frame_range`` of those frames.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from annotator.formats.atomic import safe_join
from annotator.formats.categories import UNNAMED
from annotator.formats.frame_ranges import RangeTracker
from annotator.formats.lvos import merge_videos
from annotator.formats.masks import write_label_map
from annotator.formats.video_labels import VideoLabels

CONVERT_FOLDER = "Annotations_convert"


def first_appearance_masks(video: VideoLabels, tracker: RangeTracker) -> dict[str, np.ndarray]:
    """Frame name -> label map holding only the objects that first appear on that frame."""
    new_on: dict[int, list[int]] = {}
    for object_id, position in tracker.first.items():
        new_on.setdefault(position, []).append(object_id)
    result: dict[str, np.ndarray] = {}
    for position in sorted(new_on):
        name = video.frame_names[position]
        labels = video.labels[name]
        keep = np.zeros(256, dtype=bool)
        keep[new_on[position]] = True
        result[name] = np.where(keep[labels], labels, 0).astype(np.uint8)
    return result


def meta_entry(video: VideoLabels, tracker: RangeTracker) -> dict[str, Any]:
    """The ``meta.json`` entry of one video (objects in id order)."""
    objects: dict[str, Any] = {}
    for object_id in tracker.object_ids:
        info = video.objects.get(object_id)
        objects[str(object_id)] = {
            "category": (info.category if info else "") or UNNAMED,
            "frames": [video.frame_names[i] for i in tracker.present[object_id]],
            "frame_range": tracker.frame_range(object_id),
        }
    return {"objects": objects}


def write_video(
    root: Path, video: VideoLabels, tracker: RangeTracker, folder: str = CONVERT_FOLDER
) -> dict[str, Any]:
    """Write ``root/<folder>/<video>/<frame>.png`` on first appearances (`tracker` holds where
    each object is, from writing the video's masks); returns the video's meta entry."""
    out = safe_join(root, folder, video.name)
    for name, labels in first_appearance_masks(video, tracker).items():
        write_label_map(safe_join(out, f"{name}.png"), labels)
    return meta_entry(video, tracker)


def write_meta(root: Path, entries: Mapping[str, dict[str, Any]]) -> Path:
    """Merge these videos into ``root/meta.json`` (YouTube-VOS style), keeping the others."""
    path = Path(root) / "meta.json"
    merge_videos(path, entries)
    return path
