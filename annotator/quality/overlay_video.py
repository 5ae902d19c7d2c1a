"""The overlay video of a review: H.264 in MP4 through PyAV, written atomically (a temporary
beside the target, renamed once the file is complete)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from annotator.errors import AnnotatorError
from annotator.formats.atomic import atomic_open

DEFAULT_FPS = 15


def write_video(path: str | Path, pictures: Iterable[np.ndarray], fps: int = DEFAULT_FPS,
                progress: Callable[[int], None] | None = None) -> int:
    """Encode RGB pictures (all of one size) as an MP4 at `path`; returns the frames written.
    Odd sizes are padded by a pixel (H.264 wants even ones)."""
    path = Path(path)
    if path.suffix.lower() != ".mp4":
        raise AnnotatorError("the overlay video must be an .mp4 file", path)
    count = 0
    with atomic_open(path, "wb") as handle:
        container = av.open(handle, mode="w", format="mp4")
        try:
            stream = None
            for picture in pictures:
                if stream is None:
                    stream = container.add_stream("libx264", rate=Fraction(fps))
                    stream.height = picture.shape[0] + picture.shape[0] % 2
                    stream.width = picture.shape[1] + picture.shape[1] % 2
                    stream.pix_fmt = "yuv420p"
                    stream.options = {"crf": "23", "preset": "veryfast"}
                padded = np.zeros((stream.height, stream.width, 3), np.uint8)
                padded[: picture.shape[0], : picture.shape[1]] = picture
                frame = av.VideoFrame.from_ndarray(padded, format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
                count += 1
                if progress is not None:
                    progress(count)
            if stream is None:
                raise AnnotatorError("no frames to write", path)
            for packet in stream.encode():
                container.mux(packet)
        finally:
            container.close()
    return count
