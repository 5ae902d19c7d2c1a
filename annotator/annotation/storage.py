"""Per-frame label maps kept zlib-compressed, with a few recent frames held decompressed."""

from __future__ import annotations

import zlib
from collections import Counter, OrderedDict

import cv2
import numpy as np

from annotator.annotation.objects import MAX_OBJECT_ID, MIN_OBJECT_ID


def compress(array: np.ndarray) -> bytes:
    return zlib.compress(np.ascontiguousarray(array).tobytes(), 1)


def decompress(data: bytes, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(zlib.decompress(data), dtype=np.uint8).reshape(shape).copy()


def object_ids_in(labels: np.ndarray) -> frozenset[int]:
    """Object ids (1..254) present in a label map (or any uint8 array of labels)."""
    if labels.size == 0:
        return frozenset()
    if labels.ndim != 2:
        labels = labels.reshape(-1, 1)
    counts = cv2.calcHist([labels], [0], None, [256], [0, 256]).ravel()
    present = np.flatnonzero(counts[MIN_OBJECT_ID : MAX_OBJECT_ID + 1]) + MIN_OBJECT_ID
    return frozenset(present.tolist())


class LabelStore:
    """One H x W uint8 label map per frame; an all-background frame costs nothing. How many
    frames hold each object is kept up to date as frames are stored (no scan of the video)."""

    def __init__(self, count: int, height: int, width: int, hot_frames: int = 6) -> None:
        self.shape = (height, width)
        self._data: list[bytes | None] = [None] * count
        self._present: list[frozenset[int]] = [frozenset()] * count
        self._counts: Counter[int] = Counter()
        self._hot: OrderedDict[int, np.ndarray] = OrderedDict()
        self._hot_frames = hot_frames

    def __len__(self) -> int:
        return len(self._data)

    def get(self, index: int) -> np.ndarray:
        """The label map of frame `index`; the caller must not change it."""
        labels = self._hot.get(index)
        if labels is not None:
            self._hot.move_to_end(index)
            return labels
        data = self._data[index]
        labels = np.zeros(self.shape, np.uint8) if data is None else decompress(data, self.shape)
        self._remember(index, labels)
        return labels

    def put(self, index: int, labels: np.ndarray) -> None:
        """Store `labels` (H x W uint8) as frame `index`; the store takes ownership of it."""
        self._set(index, None if not labels.any() else compress(labels), object_ids_in(labels))
        self._remember(index, labels)

    def put_packed(self, index: int, data: bytes | None, present: frozenset[int]) -> None:
        """Store a frame already compressed (None: all background) with the ids it holds."""
        self._set(index, data, present)
        self._hot.pop(index, None)

    def _set(self, index: int, data: bytes | None, present: frozenset[int]) -> None:
        old = self._present[index]
        self._counts.subtract(old - present)
        self._counts.update(present - old)
        self._data[index] = data
        self._present[index] = present

    def put_compressed(self, index: int, data: bytes) -> None:
        """Store a frame given as `compressed()` bytes (e.g. from a recovery journal)."""
        self.put(index, decompress(data, self.shape))

    def compressed(self, index: int) -> bytes | None:
        """zlib bytes of the raw label map, or None when the frame is all background."""
        return self._data[index]

    def present(self, index: int) -> frozenset[int]:
        return self._present[index]

    def frames_with(self, object_id: int) -> list[int]:
        """The frames that hold `object_id` (a scan of the video: run it in a worker)."""
        if not self._counts[object_id]:
            return []
        return [i for i, ids in enumerate(self._present) if object_id in ids]

    def frame_count(self, object_id: int) -> int:
        """How many frames hold `object_id` (kept as frames are stored)."""
        return max(0, self._counts[object_id])

    @property
    def nbytes(self) -> int:
        """Bytes held: compressed frames plus the decompressed recent ones."""
        packed = sum(len(data) for data in self._data if data is not None)
        return packed + sum(labels.nbytes for labels in self._hot.values())

    def _remember(self, index: int, labels: np.ndarray) -> None:
        self._hot[index] = labels
        self._hot.move_to_end(index)
        while len(self._hot) > self._hot_frames:
            self._hot.popitem(last=False)
