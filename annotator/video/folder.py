"""A folder of still frames (jpg, jpeg, png in any case), in natural order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from annotator.errors import AnnotatorError
from annotator.video.source import IMAGE_SUFFIXES, FrameSource, natural_key


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
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise AnnotatorError(f"cannot read the frame ({exc})", path) from exc


def _oriented_size(path: Path) -> tuple[int, int]:
    """(height, width) after EXIF orientation, read from the header only."""
    try:
        with Image.open(path) as image:
            width, height = image.size
            orientation = image.getexif().get(0x0112, 1)
    except (UnidentifiedImageError, OSError) as exc:
        raise AnnotatorError(f"cannot read the frame ({exc})", path) from exc
    if orientation in (5, 6, 7, 8):  # rotated by 90 or 270 degrees
        width, height = height, width
    return height, width


class FolderSource(FrameSource):
    def __init__(self, folder: Path, cache_bytes: int) -> None:
        files = list_frame_files(folder)
        if not files:
            raise AnnotatorError("no frames (jpg, jpeg or png) in this folder", folder)
        names = [entry.stem for entry in files]
        if len(set(names)) != len(names):
            seen: set[str] = set()
            twin = next(name for name in names if name in seen or seen.add(name))
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
