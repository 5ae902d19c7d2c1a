"""Small DAVIS-layout sets made from the first frames of the dev sequences."""

from __future__ import annotations

import shutil
from pathlib import Path


def copy_davis_sequence(davis_root: Path, root: Path, sequence: str, frames: int,
                        name: str | None = None) -> None:
    """The first `frames` frames and masks of dev `sequence`, as video `name` of the DAVIS
    layout at `root`."""
    for kind, suffix in (("JPEGImages", ".jpg"), ("Annotations", ".png")):
        target = root / kind / "480p" / (name or sequence)
        target.mkdir(parents=True)
        for index in range(frames):
            file = f"{index:05d}{suffix}"
            shutil.copy(davis_root / kind / "480p" / sequence / file, target / file)
