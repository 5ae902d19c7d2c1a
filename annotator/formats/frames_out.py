"""Put a video's frames into an output layout: copy (or hard-link) image files, or encode JPEGs."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from PIL import Image

from annotator.formats.atomic import atomic_open, safe_join
from annotator.video.dataset import Dataset
from annotator.video.folder import FolderSource

JPEG_QUALITY = 95


def write_frames(dataset: Dataset, video: str, folder: Path) -> list[str]:
    """Place every frame of `video` in `folder`; returns the frame file names, in order.

    Frames from a folder keep their files (hard links where the file system allows, else
    copies); frames from a video file are written as JPEGs named after their frame names.
    """
    with dataset.frames(video, cache_bytes=0) as frames:
        if isinstance(frames, FolderSource):
            for source in frames.files:
                _link_or_copy(source, safe_join(folder, source.name))
            return [p.name for p in frames.files]
        names = []
        for index, name in enumerate(frames.names):
            target = safe_join(folder, f"{name}.jpg")
            with atomic_open(target, "wb") as handle:
                Image.fromarray(frames[index]).save(handle, format="JPEG", quality=JPEG_QUALITY)
            names.append(target.name)
        return names


def _link_or_copy(source: Path, target: Path) -> None:
    """Hard-link `source` as `target` (a copy where links fail); an old `target` is replaced
    only once the new one is complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and os.path.samefile(source, target):
        return
    link = target.with_name(f".{target.name}.link.tmp")
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    try:
        os.link(source, link)
    except OSError:
        with atomic_open(target, "wb") as handle, open(source, "rb") as original:
            shutil.copyfileobj(original, handle)
    else:
        os.replace(link, target)
