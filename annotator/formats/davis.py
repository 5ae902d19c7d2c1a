"""The DAVIS layout's sequence lists, which the DAVIS evaluation toolkits read.

- ``ImageSets/2017/<split>.txt``: one sequence name a line (the DAVIS 2017 toolkit stops
  without it: "Subset sequences list for <split> not found").
- ``ImageSets/480p/<split>.txt`` for DAVIS 2016's splits (train, val, trainval): one line per
  annotated frame, ``/JPEGImages/480p/<seq>/<frame>.jpg /Annotations/480p/<seq>/<frame>.png``.

Both are merged with what the files already list, so that videos written in several runs
share one list; a video written again replaces its own lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from annotator.errors import AnnotatorError
from annotator.formats.atomic import atomic_write_text, safe_join
from annotator.formats.names import plain_name

RESOLUTION = "480p"
SPLITS_2016 = ("train", "val", "trainval")


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotatorError(
            f"cannot read the sequence list ({exc}); not overwriting it", path
        ) from exc


def _sequence_of_2016_line(line: str) -> str:
    """The sequence a 2016 list line belongs to (``/JPEGImages/480p/<seq>/...``)."""
    parts = line.split()[0].strip("/").split("/") if line.split() else []
    return parts[2] if len(parts) >= 4 else ""


def write_image_sets(
    root: Path, split: str, frames: Mapping[str, Sequence[tuple[str, str]]]
) -> list[Path]:
    """Add these videos to the split's lists under `root`; `frames` maps a video to its
    annotated frames as (frame file name, mask file name). Returns the files written."""
    split = plain_name(split, "split")
    path_2017 = safe_join(root, "ImageSets", "2017", f"{split}.txt")
    names = {line for line in _read_lines(path_2017) if line} | set(frames)
    atomic_write_text(path_2017, "".join(f"{name}\n" for name in sorted(names)))
    written = [path_2017]
    if split in SPLITS_2016:
        path_2016 = safe_join(root, "ImageSets", RESOLUTION, f"{split}.txt")
        kept = [
            line
            for line in _read_lines(path_2016)
            if line and _sequence_of_2016_line(line) not in frames
        ]
        for video in sorted(frames):
            kept += [
                f"/JPEGImages/{RESOLUTION}/{video}/{image} /Annotations/{RESOLUTION}/{video}/{mask}"
                for image, mask in frames[video]
            ]
        kept.sort(key=_sequence_of_2016_line)
        atomic_write_text(path_2016, "".join(f"{line}\n" for line in kept))
        written.append(path_2016)
    return written
