"""A conversion's output folders: refuse to mix a new run's files with an earlier run's.

A conversion writes, for each video, a few folders of its own (frames, masks, labelme
files). Files there from an earlier run that this run would not overwrite would read as data
(a stale mask is an annotation), so such folders are refused unless the person asks to
replace them; replacing removes the files in them first. A folder of the source dataset is
never removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from annotator.errors import AnnotatorError


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [entry for entry in folder.iterdir() if entry.is_file() or entry.is_symlink()]


def prepare(folders: Iterable[Path], protected: Iterable[Path], replace: bool) -> None:
    """Check (or, with `replace`, empty) the output `folders`; `protected` are the source's
    folders, which are never emptied."""
    folders = [Path(f) for f in folders]
    occupied = [f for f in folders if _files(f)]
    if not occupied:
        return
    if not replace:
        raise AnnotatorError(
            f"already holds {len(_files(occupied[0]))} file(s) from an earlier run that would "
            "mix with this one; convert into an empty folder, or pass --replace to rewrite "
            "these videos",
            occupied[0],
        )
    kept = {p.resolve() for p in protected}
    for folder in occupied:
        if folder.resolve() in kept:
            raise AnnotatorError("is a folder of the source dataset; not replacing it", folder)
    for folder in occupied:
        for entry in _files(folder):
            entry.unlink()
