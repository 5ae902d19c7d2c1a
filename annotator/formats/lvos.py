"""The LVOS / DAVIS layout: palette PNGs per frame plus the LVOS meta JSON files.

Files (``<split>`` e.g. ``train``, ``valid``; the LVOS toolkit reads ``valid`` and ``test``):

- ``Annotations/<video>/<frame>.png`` (DAVIS: ``Annotations/480p/<video>/``): 8-bit palette
  PNGs, DAVIS palette padded to 256 entries, pixel value = object id, 255 void. Written in
  the LVOS layout, frames are named by LVOS frame ids (see `frame_ids`).
- ``<split>_meta.json``: ``{"videos": {<video>: {"objects": {"<id>": {"category": ...,
  "frame_range": {"start": <frame>, "end": <frame>, "frame_nums": <n>}}}, "image_size":
  [height, width], "attributes": [...], "source_frames": {<frame>: <name>}}}}``. ``start``
  and ``end`` are the first and last frame where the object appears; ``frame_nums`` is
  written as the LVOS toolkit reads it (see `frame_ranges`). ``source_frames`` (only where a
  writer renamed frames) gives each frame's name in the source it was converted from.
  ``meta.json`` is read as well.
- ``<split>_expression_meta.json``: ``{"videos": {<video>: {"expressions": {"0": {"exp":
  <caption>, "obj_id": "<id>"}}, "frames": [...]}}}`` (the Refer-YouTube-VOS style).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from annotator.errors import AnnotatorError
from annotator.formats.atomic import safe_join
from annotator.formats.frame_ids import lvos_id
from annotator.formats.frame_ranges import RangeTracker, toolkit_walk
from annotator.formats.json_files import expect, read_json, write_json
from annotator.formats.masks import write_label_map
from annotator.formats.names import plain_name
from annotator.formats.validate import as_dict, as_list, as_object_id, as_str
from annotator.formats.video_labels import ObjectMeta, VideoLabels, object_presence, png_labels
from annotator.video.dataset import Dataset
from annotator.video.folder import FolderSource

Progress = Callable[[int, int], None]


def meta_path(root: Path, split: str) -> Path:
    return Path(root) / f"{plain_name(split, 'split')}_meta.json"


def expression_meta_path(root: Path, split: str) -> Path:
    return Path(root) / f"{plain_name(split, 'split')}_expression_meta.json"


def default_split(root: Path) -> str:
    """The split a root stands for: its folder name when that is a split name, else "train"."""
    name = Path(root).name
    return name if name in ("train", "valid", "val", "test") else "train"


def find_meta(root: Path, split: str | None) -> Path | None:
    """The LVOS meta JSON of `root` (`<split>_meta.json`, else `meta.json`), if any."""
    root = Path(root)
    names = [f"{split}_meta.json"] if split else []
    names += sorted(
        p.name for p in root.glob("*_meta.json") if not p.name.endswith("_expression_meta.json")
    )
    names.append("meta.json")
    return next((root / name for name in names if (root / name).is_file()), None)


def read_meta(path: Path) -> dict[str, Any]:
    """The ``videos`` dict of an LVOS (or YouTube-VOS) meta JSON, structure checked."""
    data = read_json(path)
    expect(
        isinstance(data, dict) and isinstance(data.get("videos"), dict),
        path,
        'expected an object with a "videos" object',
    )
    for video, entry in data["videos"].items():
        expect(
            isinstance(entry, dict) and isinstance(entry.get("objects", {}), dict),
            path,
            f'video {video!r}: expected an object with an "objects" object',
        )
        for key, details in entry.get("objects", {}).items():
            expect(
                key.isascii() and key.isdigit() and isinstance(details, dict),
                path,
                f"video {video!r}: object {key!r} needs a numeric id and an object of details",
            )
            as_object_id(key, path, f"video {video!r}: object id")
            if details.get("category") is not None:
                as_str(details["category"], path, f"video {video!r}: object {key}: category")
        attributes = as_list(entry.get("attributes", []), path, f"video {video!r}: attributes")
        for attribute in attributes:
            as_str(attribute, path, f"video {video!r}: an attribute")
    videos: dict[str, Any] = data["videos"]
    return videos


def read_expressions(path: Path) -> dict[str, dict[int, str]]:
    """Video -> object id -> caption, from an expression meta JSON."""
    data = read_json(path)
    expect(
        isinstance(data, dict) and isinstance(data.get("videos"), dict),
        path,
        'expected an object with a "videos" object',
    )
    captions: dict[str, dict[int, str]] = {}
    for video, entry in data["videos"].items():
        expressions = entry.get("expressions", {}) if isinstance(entry, dict) else None
        if not isinstance(expressions, dict):
            raise AnnotatorError(f'video {video!r}: "expressions" must be an object', path)
        for expression in expressions.values():
            where = f"video {video!r}: an expression"
            expression = as_dict(expression, path, where)
            object_id = as_object_id(expression.get("obj_id"), path, f"{where}'s obj_id")
            text = as_str(expression.get("exp"), path, f"{where}'s exp")
            captions.setdefault(video, {}).setdefault(object_id, text)
    return captions


def read_video(dataset: Dataset, video: str) -> VideoLabels:
    """A video of an LVOS, DAVIS, frames or video-file dataset, masks read lazily."""
    with dataset.frames(video, cache_bytes=0) as frames:
        names, (height, width) = list(frames.names), frames.size
        files = [p.name for p in frames.files] if isinstance(frames, FolderSource) else None
    masks = dataset.mask_paths(video)
    known = set(names)
    for name, path in masks.items():
        if name not in known:
            raise AnnotatorError(f"mask has no frame called {name!r} in the video", path)
    ordered = {name: masks[name] for name in names if name in masks}
    labels = VideoLabels(
        video, names, height, width, png_labels(ordered, (height, width)), frame_files=files
    )
    _read_object_details(dataset.root, dataset.split, labels)
    return labels


def _read_object_details(root: Path, split: str | None, video: VideoLabels) -> None:
    meta = find_meta(root, split)
    if meta is not None:
        entry = read_meta(meta).get(video.name, {})
        for key, details in entry.get("objects", {}).items():
            object_id = int(key)
            video.objects[object_id] = ObjectMeta(object_id, details.get("category") or "")
        video.attributes = list(entry.get("attributes", []))
        video.source_names = _source_names(entry.get("source_frames"), video, meta)
    expressions = _find_expression_meta(root, split)
    if expressions is not None:
        for object_id, caption in read_expressions(expressions).get(video.name, {}).items():
            video.objects.setdefault(object_id, ObjectMeta(object_id)).caption = caption


def _source_names(mapping: Any, video: VideoLabels, path: Path) -> dict[str, str]:
    """The ``source_frames`` of a meta entry, checked: frames of the video to distinct names."""
    if mapping is None:
        return {}
    ok = isinstance(mapping, dict) and all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in mapping.items()
    )
    known = set(video.frame_names) if ok else set()
    names: dict[str, str] = (
        {k: v for k, v in mapping.items() if k in known and k != v} if ok else {}
    )
    restored = [names.get(n, n) for n in video.frame_names]
    expect(
        ok and len(set(restored)) == len(restored),
        path,
        f"video {video.name!r}: source_frames must map frame names to distinct names",
    )
    return names


def _find_expression_meta(root: Path, split: str | None) -> Path | None:
    names = [f"{split}_expression_meta.json"] if split else []
    names += sorted(p.name for p in Path(root).glob("*_expression_meta.json"))
    return next((Path(root) / n for n in names if (Path(root) / n).is_file()), None)


def write_masks(
    mask_dir: Path, video: VideoLabels, progress: Progress | None = None
) -> RangeTracker:
    """Write the annotated frames of `video` as palette PNGs in `mask_dir`.

    Returns the object ranges seen, for the meta JSON.
    """
    tracker = RangeTracker(video.frame_names)
    names = video.annotated()
    for done, name in enumerate(names, 1):
        labels = _checked(video, name)
        write_label_map(safe_join(mask_dir, f"{name}.png"), labels)
        tracker.add(name, object_presence(labels))
        if progress is not None:
            progress(done, len(names))
    return tracker


def _checked(video: VideoLabels, name: str) -> np.ndarray:
    labels = video.labels[name]
    if labels.shape != (video.height, video.width) or labels.dtype != np.uint8:
        raise AnnotatorError(
            f"frame {name!r}: label map is {labels.dtype} {labels.shape}, expected uint8 "
            f"{(video.height, video.width)}",
            video.name,
        )
    return labels


def meta_entry(video: VideoLabels, tracker: RangeTracker) -> dict[str, Any]:
    """The ``<split>_meta.json`` entry of one video."""
    objects: dict[str, Any] = {}
    for object_id in tracker.object_ids:
        details: dict[str, Any] = {}
        info = video.objects.get(object_id)
        if info is not None and info.category:
            details["category"] = info.category
        details["frame_range"] = tracker.frame_range(object_id)
        objects[str(object_id)] = details
    entry: dict[str, Any] = {"objects": objects, "image_size": [video.height, video.width]}
    if video.attributes:
        entry["attributes"] = list(video.attributes)
    if video.source_names:
        entry["source_frames"] = dict(video.source_names)
    return entry


def toolkit_notes(video: VideoLabels, tracker: RangeTracker) -> list[str]:
    """What the LVOS evaluation toolkit will not manage with this video as written."""
    notes: list[str] = []
    annotated = {video.frame_names[i] for i in tracker.annotated}
    for object_id in tracker.object_ids:
        frame_range = tracker.frame_range(object_id)
        start, end = lvos_id(frame_range["start"]), lvos_id(frame_range["end"])
        if start is None or end is None:
            return [f"{video.name}: frames are not named by LVOS ids; the LVOS toolkit fails"]
        span = f"{frame_range['start']}..{frame_range['end']}"
        where = f"{video.name}: object {object_id} ({span})"
        if frame_range["frame_nums"] < 3:
            notes.append(
                f"{where} spans fewer than 3 sampled frames: the LVOS toolkit scores none of "
                "them (NaN, or it stops when frame_nums is 1)"
            )
        missing = [f"{i:08d}" for i in toolkit_walk(start, end) if f"{i:08d}" not in annotated]
        if missing:
            notes.append(
                f"{where}: the LVOS toolkit opens {len(missing)} mask(s) that are not written "
                f"(first {missing[0]}.png)"
            )
    return notes


def expression_entry(video: VideoLabels) -> dict[str, Any] | None:
    """The ``<split>_expression_meta.json`` entry of one video, None without captions."""
    captioned = [o for _, o in sorted(video.objects.items()) if o.caption]
    if not captioned:
        return None
    expressions = {str(i): {"exp": o.caption, "obj_id": str(o.id)} for i, o in enumerate(captioned)}
    return {"expressions": expressions, "frames": list(video.frame_names)}


def update_meta_files(
    root: Path,
    split: str,
    entries: Mapping[str, dict[str, Any]],
    expressions: Mapping[str, dict[str, Any] | None],
    replace: bool = False,
) -> None:
    """Put these videos' entries into the split's meta JSON files, keeping the other videos.

    In ``<split>_meta.json`` fields this tool does not write (e.g. ``attributes`` or extra
    per-object keys) survive; ``objects``' ``category`` and ``frame_range`` are replaced.
    With `replace` (a conversion that rewrites these videos) the entries replace the old
    ones whole.
    """
    merge_videos(meta_path(root, split), entries, None if replace else _merge_meta_entry)
    if (
        any(entry is not None for entry in expressions.values())
        or expression_meta_path(root, split).is_file()
    ):
        merge_videos(expression_meta_path(root, split), expressions)


_OWNED_OBJECT_KEYS = ("category", "frame_range")


def _merge_meta_entry(old: Any, new: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(old, dict):
        return new
    merged = {**old, **new}
    old_objects: dict[str, Any] = old["objects"] if isinstance(old.get("objects"), dict) else {}
    merged["objects"] = {}
    for key, details in new["objects"].items():
        previous = old_objects.get(key)
        kept = {
            k: v
            for k, v in (previous.items() if isinstance(previous, dict) else ())
            if k not in _OWNED_OBJECT_KEYS
        }
        merged["objects"][key] = {**kept, **details}
    return merged


def merge_videos(
    path: Path,
    entries: Mapping[str, dict[str, Any] | None],
    merge: Callable[[Any, dict[str, Any]], dict[str, Any]] | None = None,
) -> None:
    """Put `entries` (None removes a video) into the ``videos`` object of the JSON at `path`,
    keeping its other videos; `merge(old, new)` combines an entry with the one there."""
    data: dict[str, Any] = {"videos": {}}
    if path.is_file():
        data = read_json(path)
        expect(
            isinstance(data, dict) and isinstance(data.get("videos"), dict),
            path,
            'expected an object with a "videos" object; not overwriting it',
        )
    for video, entry in entries.items():
        if entry is None:
            data["videos"].pop(video, None)
        elif merge is not None:
            data["videos"][video] = merge(data["videos"].get(video), entry)
        else:
            data["videos"][video] = entry
    data["videos"] = dict(sorted(data["videos"].items()))
    write_json(path, data, indent=1)


def mask_folder(root: Path, video: str, davis: bool = False) -> Path:
    """Where the masks of `video` go under `root`: ``Annotations/[480p/]<video>``."""
    parts = ("Annotations", "480p", video) if davis else ("Annotations", video)
    return safe_join(root, *parts)
