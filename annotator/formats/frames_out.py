"""Put a video's frames into an output layout: copy (or hard-link) image files, or encode JPEGs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from annotator.formats.atomic import atomic_open, safe_join
from annotator.video.dataset import Dataset
from annotator.video.folder import FolderSource, check_frame_file

JPEG_QUALITY = 95


def write_frames(dataset: Dataset, video: str, folder: Path, names: Sequence[str]) -> list[str]:
    """Place every frame of `video` in `folder`, frame i named ``names[i]``; returns the file
    names written, in order.

    Frames from a folder keep their files and suffixes (hard links where the file system
    allows, else copies; a frame that is a symbolic link is always copied, so the output holds
    plain files), each checked first: a truncated frame, or one of another size than the
    first, stops the conversion with its name. Frames from a video file are written as JPEGs.
    """
    with dataset.frames(video, cache_bytes=0) as frames:
        if len(names) != len(frames):
            raise ValueError(f"{len(frames)} frames but {len(names)} names")
        if isinstance(frames, FolderSource):  # all checked before any is placed
            for source in frames.files:
                check_frame_file(source, frames.size)
        written = []
        for index, name in enumerate(names):
            if isinstance(frames, FolderSource):
                source = frames.files[index]
                target = safe_join(folder, name + source.suffix)
                _link_or_copy(source, target)
            else:
                target = safe_join(folder, f"{name}.jpg")
                with atomic_open(target, "wb") as handle:
                    Image.fromarray(frames[index]).save(handle, format="JPEG", quality=JPEG_QUALITY)
            written.append(target.name)
        return written


def _link_or_copy(source: Path, target: Path) -> None:
    """Hard-link `source` as a new `target` (a link appears whole); copy atomically where
    linking fails, `target` exists already, or `source` is a symbolic link."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_symlink() and os.path.samefile(source, target):
        return
    if not source.is_symlink() and not os.path.lexists(target):
        try:
            os.link(source, target, follow_symlinks=False)
        except OSError:
            pass
        else:
            return
    with atomic_open(target, "wb") as handle, open(source, "rb") as original:
        shutil.copyfileobj(original, handle)
