"""A least-recently-used cache of decoded frames, bounded by the bytes it holds."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np


class FrameCache:
    """Index -> frame, evicting the least recently used frames beyond `max_bytes`.

    A frame larger than the whole budget is never kept. Safe to use from several threads.
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"cache size must be >= 0 bytes, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()
        self._nbytes = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Bytes held now; never more than `max_bytes`."""
        return self._nbytes

    def __len__(self) -> int:
        return len(self._frames)

    def __contains__(self, index: int) -> bool:
        return index in self._frames

    def get(self, index: int) -> np.ndarray | None:
        with self._lock:
            frame = self._frames.get(index)
            if frame is not None:
                self._frames.move_to_end(index)
            return frame

    def nearest(self, index: int) -> tuple[int, np.ndarray] | None:
        """The cached frame closest to `index` (a stand-in while `index` decodes), or None."""
        with self._lock:
            if not self._frames:
                return None
            closest = min(self._frames, key=lambda cached: abs(cached - index))
            return closest, self._frames[closest]

    def put(self, index: int, frame: np.ndarray) -> None:
        size = frame.nbytes
        if size > self.max_bytes:
            return
        frame.setflags(write=False)
        with self._lock:
            old = self._frames.pop(index, None)
            if old is not None:
                self._nbytes -= old.nbytes
            while self._frames and self._nbytes + size > self.max_bytes:
                _, evicted = self._frames.popitem(last=False)
                self._nbytes -= evicted.nbytes
            self._frames[index] = frame
            self._nbytes += size

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()
            self._nbytes = 0
