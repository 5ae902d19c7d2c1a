"""Image embeddings per frame index, least recently used first out, bounded in bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict

from models.protocols import ImageEmbedding


class EmbeddingCache:
    """Thread-safe LRU of embeddings keyed by frame index; never holds more than `max_bytes`.

    An embedding larger than the whole budget is not kept at all.
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be >= 0")
        self.max_bytes = max_bytes
        self._items: OrderedDict[int, tuple[ImageEmbedding, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, index: int) -> ImageEmbedding | None:
        with self._lock:
            item = self._items.get(index)
            if item is None:
                return None
            self._items.move_to_end(index)
            return item[0]

    def put(self, index: int, embedding: ImageEmbedding) -> None:
        nbytes = int(embedding.nbytes)
        with self._lock:
            old = self._items.pop(index, None)
            if old is not None:
                self._bytes -= old[1]
            if nbytes > self.max_bytes:
                return
            self._items[index] = (embedding, nbytes)
            self._bytes += nbytes
            while self._bytes > self.max_bytes:
                _, (_, evicted) = self._items.popitem(last=False)
                self._bytes -= evicted

    def __contains__(self, index: int) -> bool:
        with self._lock:
            return index in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return self._bytes

    def indices(self) -> list[int]:
        """Cached frame indices, least recently used first."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
