"""A folder of still frames (jpg, jpeg, png in any case), in natural order."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from PIL import ImageOps

from annotator.errors import AnnotatorError
from annotator.video.images import FRAME_FORMATS, check_complete, open_image
from annotator.video.source import IMAGE_SUFFIXES, FrameSource, check_utf8_name, natural_key


def list_frame_files(folder: Path) -> list[Path]:
    """Image files directly in `folder`, naturally sorted; hidden files skipped."""
    files = [
        entry
        for entry in folder.iterdir()
        if entry.suffix.lower() in IMAGE_SUFFIXES
        and not entry.name.startswith(".")
        and entry.is_file()
    ]
    return sorted(files, key=lambda entry: natural_key(entry.name))


def read_rgb(path: Path) -> np.ndarray:
    """Decode one image as H x W x 3 uint8 RGB with its EXIF orientation applied."""
    with open_image(path, "frame", FRAME_FORMATS, path) as image:
        upright = ImageOps.exif_transpose(image)
        return np.asarray(upright.convert("RGB"))


def _oriented_size(path: Path) -> tuple[int, int]:
    """(height, width) after EXIF orientation, read from the header only."""
    with open_image(path, "frame", FRAME_FORMATS, path) as image:
        width, height = image.size
        orientation = image.getexif().get(0x0112, 1)
    if orientation in (5, 6, 7, 8):  # rotated by 90 or 270 degrees
        width, height = height, width
    return height, width


def check_frame_file(path: Path, size: tuple[int, int]) -> None:
    """A frame file about to be copied as it is: whole (not truncated) and of `size`
    (height, width), checked from its header and its last bytes."""
    height, width = _oriented_size(path)
    if (height, width) != tuple(size):
        raise AnnotatorError(
            f"frame is {width}x{height} but the first frame is {size[1]}x{size[0]}", path
        )
    check_complete(path, "frame", FRAME_FORMATS)


class FolderSource(FrameSource):
    def __init__(self, folder: Path, cache_bytes: int) -> None:
        files = list_frame_files(folder)
        if not files:
            raise AnnotatorError("no frames (jpg, jpeg or png) in this folder", folder)
        for entry in files:
            check_utf8_name(entry)
        names = [entry.stem for entry in files]
        if len(set(names)) != len(names):
            twin = next(name for name, count in Counter(names).items() if count > 1)
            raise AnnotatorError(f"two frames are both called {twin!r}", folder)
        super().__init__(folder, names, cache_bytes)
        self.files = files
        self._size = _oriented_size(files[0])

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def _decode(self, index: int) -> np.ndarray:
        path = self.files[index]
        frame = read_rgb(path)
        if frame.shape[:2] != self._size:
            raise AnnotatorError(
                f"frame is {frame.shape[1]}x{frame.shape[0]} but the first frame is "
                f"{self._size[1]}x{self._size[0]}",
                path,
            )
        return frame
