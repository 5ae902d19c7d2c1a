"""Opening frames by path: a folder of images or a video file, whichever `path` is."""

from __future__ import annotations

from pathlib import Path

from annotator.errors import AnnotatorError
from annotator.video.folder import FolderSource
from annotator.video.source import DEFAULT_CACHE_BYTES, VIDEO_SUFFIXES, FrameSource
from annotator.video.video_file import VideoFileSource


def open_frames(path: str | Path, cache_bytes: int = DEFAULT_CACHE_BYTES) -> FrameSource:
    """Open a folder of jpg/jpeg/png frames or a video file (mp4, mov, avi, mkv, webm)."""
    path = Path(path)
    if path.is_dir():
        return FolderSource(path, cache_bytes)
    if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES:
        return VideoFileSource(path, cache_bytes)
    if not path.exists():
        raise AnnotatorError("no such file or folder", path)
    raise AnnotatorError(
        f"not a folder of frames nor a video file ({', '.join(VIDEO_SUFFIXES)})", path
    )
