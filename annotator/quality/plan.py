"""Which frames of which objects are scored: DAVIS-style folders or an LVOS meta file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from annotator.errors import AnnotatorError
from annotator.formats.atomic import safe_join
from annotator.formats.masks import read_label_map

LVOS_FRAME_STEP = 5  # LVOS scores every 5th frame of an object's range


@dataclass(frozen=True)
class ObjectTrack:
    """One object of one sequence and the frame names (file stems) it is scored on."""

    sequence: str
    object_id: int
    index: int  # 1-based position among the sequence's objects, as in the toolkit's names
    frames: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.sequence}_{self.index}"


def mask_root(path: str | Path) -> Path:
    """The folder holding `<sequence>/<frame>.png`: the path itself or its Annotations[/480p]."""
    root = Path(path)
    if not root.is_dir():
        raise AnnotatorError("is not a folder", root)
    for candidate in (root / "Annotations" / "480p", root / "Annotations"):
        if candidate.is_dir():
            return candidate
    return root


def sequences_in(root: Path) -> list[str]:
    """Sub-folders of `root` that hold PNG masks, sorted by name."""
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*.png")))
    if not names:
        raise AnnotatorError("holds no <sequence>/<frame>.png masks", root)
    return names


def davis_tracks(gt_root: Path, sequences: list[str]) -> list[ObjectTrack]:
    """All frames but the first and the last, every object seen in the ground truth."""
    tracks: list[ObjectTrack] = []
    for sequence in sequences:
        stems = sorted(p.stem for p in (gt_root / sequence).glob("*.png"))
        scored = tuple(stems[1:-1])
        ids: set[int] = set()
        for stem in stems:
            ids.update(_object_ids(read_label_map(gt_root / sequence / f"{stem}.png")))
        for index, obj in enumerate(sorted(ids), start=1):
            tracks.append(ObjectTrack(sequence, obj, index, scored))
    return tracks


def _object_ids(labels: np.ndarray) -> set[int]:
    values = np.unique(labels)
    return {int(v) for v in values if 0 < v < 255}


def lvos_tracks(meta_path: Path, gt_root: Path) -> list[ObjectTrack]:
    """Objects and frame ranges from an LVOS `<split>_meta.json`: every 5th frame from the
    range's start up to (not including) its end, as the LVOS toolkit scores them."""
    try:
        videos = json.loads(meta_path.read_text(encoding="utf-8"))["videos"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise AnnotatorError(f"not an LVOS meta file ({exc!r})", meta_path) from exc
    if not isinstance(videos, dict):
        raise AnnotatorError('"videos" is not an object', meta_path)
    tracks: list[ObjectTrack] = []
    for video in sorted(videos):
        safe_join(gt_root, video)
        try:
            objects = videos[video]["objects"]
            for index, key in enumerate(objects, start=1):
                frame_range = objects[key]["frame_range"]
                start, end = str(frame_range["start"]), str(frame_range["end"])
                width = len(start)
                frames = tuple(
                    f"{n:0{width}d}" for n in range(int(start), int(end), LVOS_FRAME_STEP)
                )
                tracks.append(ObjectTrack(video, int(key), index, frames))
        except (KeyError, TypeError, ValueError) as exc:
            raise AnnotatorError(
                f"video {video!r}: objects need integer ids and a frame_range with start and "
                f"end ({exc!r})",
                meta_path,
            ) from exc
    return tracks


def read_name_list(path: Path) -> set[str]:
    """One sequence name a line (the LVOS `unseen_videos.txt`)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotatorError(f"cannot read the list ({exc})", path) from exc
    return {line.strip() for line in lines if line.strip()}
