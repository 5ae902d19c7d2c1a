"""``Annotations_convert``: the YouTube-VOS validation format that LVOS tools produce.

For each video a PNG is written only on frames where some object first appears, and that PNG
holds only the objects new on that frame (everything else is background). A ``meta.json`` in
the YouTube-VOS style lists, for each object, the frames from its first appearance on.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from annotator.formats.atomic import safe_join
from annotator.formats.lvos import merge_videos
from annotator.formats.masks import write_label_map
from annotator.formats.video_labels import VideoLabels, object_presence

CONVERT_FOLDER = "Annotations_convert"


def first_appearance_masks(video: VideoLabels) -> dict[str, np.ndarray]:
    """Frame name -> label map holding only the objects that first appear on that frame."""
    seen: set[int] = set()
    result: dict[str, np.ndarray] = {}
    for name in video.annotated():
        labels = video.labels[name]
        new = [int(i) for i in object_presence(labels) if int(i) not in seen]
        if not new:
            continue
        keep = np.zeros(256, dtype=bool)
        keep[new] = True
        result[name] = np.where(keep[labels], labels, 0).astype(np.uint8)
        seen.update(new)
    return result


def write_video(root: Path, video: VideoLabels, folder: str = CONVERT_FOLDER) -> dict[str, Any]:
    """Write `root/<folder>/<video>/<frame>.png` on first appearances; returns the meta entry."""
    out = safe_join(root, folder, video.name)
    objects: dict[str, Any] = {}
    position = {name: i for i, name in enumerate(video.frame_names)}
    for name, labels in first_appearance_masks(video).items():
        write_label_map(safe_join(out, f"{name}.png"), labels)
        for object_id in object_presence(labels):
            entry: dict[str, Any] = {}
            info = video.objects.get(int(object_id))
            if info is not None and info.category:
                entry["category"] = info.category
            entry["frames"] = video.frame_names[position[name] :]
            objects[str(int(object_id))] = entry
    return {"objects": objects}


def write_meta(root: Path, entries: Mapping[str, dict[str, Any]]) -> Path:
    """Merge these videos into ``root/meta.json`` (YouTube-VOS style), keeping the others."""
    path = Path(root) / "meta.json"
    merge_videos(path, entries)
    return path
