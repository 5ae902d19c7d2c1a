"""Which frames of which objects are scored, as each official toolkit chooses them.

- ``davis2017`` (davis2017-evaluation, semi-supervised): the sequences listed in
  ``ImageSets/2017/<set>.txt`` when the ground-truth root has that file, else every sequence
  folder; objects 1 .. the highest id in the sequence's first mask; every ground-truth mask
  but the first and the last, masks in the order of their file names.
- ``lvos`` (lvos-evaluation, semi-supervised): the videos and objects of the LVOS meta file,
  objects in the file's order; for each object the ids ``range(start, end, 5)`` of its
  ``frame_range``, less the first, opened as ``{id:08d}.png``.

Where a file would make the toolkit score differently from its own rule (a ``frame_nums``
that disagrees with the range, an object with no frame to score), the plan says so in its
notes instead of copying the slip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotator.errors import AnnotatorError
from annotator.formats.atomic import safe_join
from annotator.formats.frame_ranges import toolkit_walk
from annotator.formats.json_files import read_json
from annotator.formats.masks import read_label_map
from models.protocols import VOID

PROTOCOLS = ("davis2017", "lvos")
DEFAULT_SETS = {"davis2017": "val", "lvos": "valid"}  # the toolkits' own defaults


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


@dataclass
class Plan:
    """The tracks to score under one protocol, and notes on where the official toolkit would
    not follow its own rule on these files."""

    protocol: str
    tracks: list[ObjectTrack] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


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


def davis_sequence_list(dataset_root: Path, set_name: str) -> list[str] | None:
    """The sequences of ``ImageSets/2017/<set>.txt`` under `dataset_root`, if it has one."""
    path = safe_join(dataset_root, "ImageSets", "2017", f"{set_name}.txt")
    return sorted(read_name_list(path)) if path.is_file() else None


def davis2017_plan(gt_root: Path, sequences: list[str]) -> Plan:
    """Every mask but the first and the last; objects 1 .. the first mask's highest id."""
    plan = Plan("davis2017")
    for sequence in sequences:
        folder = safe_join(gt_root, sequence)
        names = sorted(p.name for p in folder.glob("*.png")) if folder.is_dir() else []
        if not names:
            raise AnnotatorError("ground-truth masks are missing", folder)
        first = read_label_map(folder / names[0])
        count = int(first[first != VOID].max(initial=0))
        scored = tuple(Path(n).stem for n in names[1:-1])
        if count == 0:
            plan.notes.append(f"{sequence}: its first mask holds no object; nothing is scored")
        elif not scored:
            plan.notes.append(
                f"{sequence}: {len(names)} mask(s) leave no frame between the first and the "
                "last; its objects score NaN and are left out of the means"
            )
        for object_id in range(1, count + 1):
            plan.tracks.append(ObjectTrack(sequence, object_id, object_id, scored))
    return plan


def _read_meta_videos(meta_path: Path) -> dict[str, Any]:
    data = read_json(meta_path)
    if not isinstance(data, dict) or not isinstance(data.get("videos"), dict):
        raise AnnotatorError('not an LVOS meta file: expected a "videos" object', meta_path)
    videos: dict[str, Any] = data["videos"]
    return videos


def _lvos_track(
    video: str, index: int, key: str, frame_range: Any, available: int, plan: Plan
) -> ObjectTrack:
    """One object's track; raises KeyError, TypeError, ValueError or OverflowError on a
    malformed range."""
    start, end = int(str(frame_range["start"])), int(str(frame_range["end"]))
    walk = toolkit_walk(start, end)
    if len(walk) > available + 1:
        raise ValueError(
            f"its range {start}..{end} walks {len(walk)} frames but the video has "
            f"{available} masks"
        )
    name = f"{video}_{index} (object {key})"
    expected = len(walk) + 1
    frame_nums = frame_range.get("frame_nums")
    if frame_nums is None:
        plan.notes.append(f"{name}: no frame_nums; the LVOS toolkit stops (it needs {expected})")
    elif int(frame_nums) != expected:
        effect = (
            "counts the frames it does not walk as 0"
            if int(frame_nums) > expected
            else "stops with an IndexError"
        )
        plan.notes.append(
            f"{name}: frame_nums is {int(frame_nums)} but the range walks {len(walk)} ids "
            f"(expected {expected}); the LVOS toolkit {effect}; here the walked frames count"
        )
    if len(walk) < 2:
        plan.notes.append(
            f"{name}: no frame to score (range {start}..{end}); it scores NaN and is left out "
            "of the means (the LVOS toolkit's means become NaN)"
        )
    return ObjectTrack(video, int(key), index, tuple(f"{i:08d}" for i in walk[1:]))


def lvos_plan(meta_path: Path, gt_root: Path) -> Plan:
    """Objects and frames from an LVOS ``<split>_meta.json`` (see the module docstring)."""
    videos = _read_meta_videos(meta_path)
    plan = Plan("lvos")
    for video in sorted(videos):
        folder = safe_join(gt_root, video)
        available = len(list(folder.glob("*.png"))) if folder.is_dir() else 0
        try:
            objects = videos[video]["objects"]
            for index, key in enumerate(objects, start=1):
                plan.tracks.append(
                    _lvos_track(video, index, key, objects[key]["frame_range"], available, plan)
                )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise AnnotatorError(
                f"video {video!r}: objects need integer ids and a frame_range with integer "
                f"start and end ({exc})",
                meta_path,
            ) from exc
    return plan


def read_name_list(path: Path) -> set[str]:
    """One sequence name a line (the LVOS `unseen_videos.txt`, DAVIS' ImageSets lists)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotatorError(f"cannot read the list ({exc})", path) from exc
    return {line.strip() for line in lines if line.strip()}

