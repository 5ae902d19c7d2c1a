"""Frame sources: random access to the RGB frames of a folder of images or a video file."""

from __future__ import annotations

import abc
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from annotator.errors import AnnotatorError, shown_path
from annotator.video.cache import FrameCache

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm")
DEFAULT_CACHE_BYTES = 512 * 2**20


def natural_key(name: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that orders digit runs by value: `2.jpg` before `10.jpg`."""
    parts = re.split(r"(\d+)", name.lower())
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in parts if part)


def check_utf8_name(path: Path) -> None:
    """Refuse a file or folder whose name is not valid UTF-8 (bytes that Python keeps as lone
    surrogates): the dataset's JSON files, which name frames and videos, could not hold it."""
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        raise AnnotatorError(
            f"the name {shown_path(path.name)!r} is not valid UTF-8 and no JSON file can hold "
            "it; rename it",
            path.parent,
        ) from None


class FrameSource(abc.ABC):
    """Frames of one video, decoded on demand through a cache bounded in bytes.

    `source[i]` is an H x W x 3 uint8 RGB array; it is read-only (it may be shared with the
    cache): copy it before changing it. `names[i]` is the frame's name without suffix.
    """

    path: Path
    names: list[str]

    def __init__(self, path: Path, names: list[str], cache_bytes: int) -> None:
        self.path = path
        self.names = names
        self.cache = FrameCache(cache_bytes)

    @property
    @abc.abstractmethod
    def size(self) -> tuple[int, int]:
        """(height, width) of every frame."""

    @abc.abstractmethod
    def _decode(self, index: int) -> np.ndarray:
        """Decode frame `index` (already bounds-checked) as H x W x 3 uint8 RGB."""

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> np.ndarray:
        index = self._check_index(index)
        frame = self.cache.get(index)
        if frame is None:
            frame = self._decode(index)
            self.cache.put(index, frame)
        return frame

    def decode_cost(self, index: int) -> int:
        """About how many frames must be decoded to give frame `index` now (0: it is cached);
        a reader of still images decodes one."""
        return 0 if self._check_index(index) in self.cache else 1

    def __iter__(self) -> Iterator[np.ndarray]:
        for index in range(len(self)):
            yield self[index]

    def index_of(self, name: str) -> int:
        """Index of the frame called `name`; AnnotatorError when there is none."""
        try:
            return self._positions()[name]
        except KeyError:
            raise AnnotatorError(f"no frame named {name!r}", self.path) from None

    def _positions(self) -> dict[str, int]:
        positions = getattr(self, "_name_positions", None)
        if positions is None:
            positions = {name: index for index, name in enumerate(self.names)}
            self._name_positions = positions
        return positions

    def _check_index(self, index: int) -> int:
        count = len(self.names)
        index = int(index)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError(f"frame {index} out of range for {count} frames")
        return index

    def close(self) -> None:
        """Release decoders and cached frames."""
        self.cache.clear()

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        height, width = self.size
        return f"{type(self).__name__}({str(self.path)!r}, {len(self)} frames, {width}x{height})"
