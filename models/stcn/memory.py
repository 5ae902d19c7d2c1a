"""Memory of keys and values with a frame budget, and the top-k readout of STCN."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

# Largest query-by-memory affinity block computed at once (elements): bounds the peak memory.
AFFINITY_BLOCK = 1 << 24


@dataclass(frozen=True)
class MemoryLayout:
    """How the frame budget is split: permanent keyframes, a window of recent memory frames and
    an optional temporary slot for the last frame."""

    permanent: int
    window: int
    temporary: bool

    @property
    def slots(self) -> int:
        return self.permanent + self.window + int(self.temporary)

    @staticmethod
    def plan(
        budget: int, keyframes: int, possible_memory_frames: int, include_last: bool
    ) -> MemoryLayout:
        """Split `budget` frames: keyframes first (at most budget minus the temporary slot),
        then the window, never larger than the memory frames this pass can produce."""
        temporary_slots = int(include_last)
        if budget < 1 + temporary_slots:
            raise ValueError(f"a memory budget of {budget} frames is too small")
        permanent = min(keyframes, budget - temporary_slots)
        window = min(budget - permanent - temporary_slots, possible_memory_frames)
        return MemoryLayout(permanent, window, include_last)


class MemoryBank:
    """Preallocated keys (S, P, C_k), squared key norms (S, P) and values (S, P, K * C_v) for
    S frames of P pixels and K objects.

    Slot order: keyframes, then the window (a ring: the oldest memory frame is overwritten), then
    the temporary frame. Filled slots always form a prefix, so reading never copies the memory.
    """

    def __init__(
        self,
        layout: MemoryLayout,
        pixels: int,
        key_channels: int,
        objects: int,
        value_channels: int,
        device: torch.device,
        dtype: torch.dtype,
    ) -> None:
        self.layout = layout
        self.objects = objects
        self.value_channels = value_channels
        self.keys = torch.empty(layout.slots, pixels, key_channels, device=device, dtype=dtype)
        self.norms = torch.empty(layout.slots, pixels, device=device, dtype=dtype)
        self.values = torch.empty(
            layout.slots, pixels, objects * value_channels, device=device, dtype=dtype
        )
        self.permanent_count = 0
        self.window_count = 0  # memory frames added so far (the ring holds the last `window`)
        self.has_temporary = False

    @property
    def frame_count(self) -> int:
        """Frames the next readout attends to: the filled prefix of the slots."""
        window = min(self.window_count, self.layout.window)
        return self.permanent_count + window + int(self.has_temporary)

    def _store(self, slot: int, key: torch.Tensor, value: torch.Tensor) -> None:
        """`key` (C_k, h, w), `value` (K, C_v, h, w)."""
        flat_key = key.flatten(1).transpose(0, 1)
        self.keys[slot].copy_(flat_key)
        self.norms[slot].copy_(flat_key.float().pow(2).sum(1))
        self.values[slot].copy_(value.flatten(2).permute(2, 0, 1).flatten(1))

    def add_permanent(self, key: torch.Tensor, value: torch.Tensor) -> None:
        if self.permanent_count >= self.layout.permanent:
            raise RuntimeError("all keyframe slots are taken")
        self._store(self.permanent_count, key, value)
        self.permanent_count += 1

    def add_frame(self, key: torch.Tensor, value: torch.Tensor) -> None:
        """A memory frame: goes into the window, replacing the oldest one when it is full."""
        self.has_temporary = False
        if self.layout.window == 0:
            return
        slot = self.layout.permanent + self.window_count % self.layout.window
        self._store(slot, key, value)
        self.window_count += 1

    def set_temporary(self, key: torch.Tensor, value: torch.Tensor) -> None:
        """The last frame, kept until the next frame replaces it."""
        if not self.layout.temporary:
            raise RuntimeError("this memory has no temporary slot")
        self.has_temporary = False
        self._store(self.frame_count, key, value)
        self.has_temporary = True

    def read(self, query_key: torch.Tensor, top_k: int) -> torch.Tensor:
        """Readout (K, C_v, h, w) for the query key (C_k, h, w).

        Affinity of memory pixel i to query pixel j is (2 m_i.q_j - |m_i|^2) / sqrt(C_k) (the
        |q_j|^2 term of the negative squared distance is constant per query and dropped); each
        query keeps its `top_k` memory pixels, softmax-weighted, to sum their values.
        """
        key_channels, height, width = query_key.shape
        count = self.frame_count
        keys = self.keys[:count].flatten(0, 1)
        norms = self.norms[:count].flatten().to(keys.dtype)
        values = self.values[:count].flatten(0, 1)
        queries = query_key.flatten(1).transpose(0, 1)
        k = min(top_k, keys.shape[0])
        scale = 1.0 / math.sqrt(key_channels)
        block = max(1, AFFINITY_BLOCK // keys.shape[0])
        outputs = []
        for start in range(0, queries.shape[0], block):
            chunk = queries[start : start + block]
            affinity = torch.addmm(norms.unsqueeze(0), chunk, keys.T, beta=-1, alpha=2) * scale
            top_values, top_index = torch.topk(affinity, k, dim=1)
            weights = torch.softmax(top_values.float(), dim=1).to(values.dtype)
            outputs.append(
                F.embedding_bag(top_index, values, per_sample_weights=weights, mode="sum")
            )
        readout = torch.cat(outputs, 0)
        return readout.T.reshape(self.objects, self.value_channels, height, width)
