"""The memory of one SAM 2.1 propagation pass, kept to what memory attention can still read.

SAM 2.1 reads, for each frame, the spatial memory of every prompted frame (keyframe), the
spatial memory of the last `num_maskmem - 1` frames (every `stride`-th one and the previous
one), and the object pointers of the keyframes behind it and of the last
`max_obj_ptrs_in_encoder - 1` frames. The package's video predictor keeps every frame's output
for the whole video; this memory keeps the keyframes and drops each other frame's spatial memory
and pointer as soon as no later frame of the pass can read it, so its size does not grow with
the video.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

MEMORY_DTYPE = torch.bfloat16  # the package stores spatial memories in bfloat16


@dataclass(frozen=True)
class Reach:
    """How far back memory attention reads, from the network's settings."""

    slots: int  # num_maskmem: the current frame plus the remembered ones
    stride: int  # memory_temporal_stride_for_eval
    pointers: int  # object pointers read: min(video length, max_obj_ptrs_in_encoder)
    reverse: bool  # the pass moves towards the first frame


def spatial_frames(frame: int, reach: Reach) -> list[int]:
    """The non-keyframes whose spatial memory `frame` reads (the package's selection: the
    previous frame, then every `stride`-th frame before it)."""
    stride = reach.stride
    found = []
    for t_pos in range(1, reach.slots):
        t_rel = reach.slots - t_pos
        if t_rel == 1:
            found.append(frame + 1 if reach.reverse else frame - 1)
        elif reach.reverse:
            found.append(-(-(frame + 2) // stride) * stride + (t_rel - 2) * stride)
        else:
            found.append((frame - 2) // stride * stride - (t_rel - 2) * stride)
    return found


def pointer_frames(frame: int, reach: Reach) -> list[int]:
    """The non-keyframes whose object pointer `frame` reads."""
    step = 1 if reach.reverse else -1
    return [frame + step * distance for distance in range(1, reach.pointers)]


@dataclass(frozen=True)
class FrameMemory:
    """What one frame leaves for later ones, for K objects."""

    features: torch.Tensor  # (K, C_mem, h, w) spatial memory, bfloat16
    pointers: torch.Tensor  # (K, C) object pointers


class PassMemory:
    """Keyframe memories (permanent) and the recent frames' memories (pruned as the pass goes).

    `positions` is the spatial memories' position encoding, the same for every frame.
    """

    def __init__(self, reach: Reach) -> None:
        self.reach = reach
        self.keyframes: dict[int, FrameMemory] = {}
        self.features: dict[int, torch.Tensor] = {}
        self.pointers: dict[int, torch.Tensor] = {}
        self.positions: list[torch.Tensor] | None = None

    def set_positions(self, positions: list[torch.Tensor]) -> None:
        if self.positions is None:
            self.positions = positions

    def add_keyframe(self, index: int, memory: FrameMemory) -> None:
        self.keyframes[index] = _stored(memory)

    def add_frame(self, index: int, memory: FrameMemory) -> None:
        """Remember frame `index` of the pass, then forget what the next frame cannot read."""
        stored = _stored(memory)
        self.features[index] = stored.features
        self.pointers[index] = stored.pointers
        following = index - 1 if self.reach.reverse else index + 1
        keep_features = set(spatial_frames(following, self.reach))
        keep_pointers = set(pointer_frames(following, self.reach))
        self.features = {i: v for i, v in self.features.items() if i in keep_features}
        self.pointers = {i: v for i, v in self.pointers.items() if i in keep_pointers}

    @property
    def frame_count(self) -> int:
        """Frames whose spatial memory is held."""
        return len(self.keyframes) + len(self.features)

    @property
    def nbytes(self) -> int:
        tensors = [*self.features.values(), *self.pointers.values()]
        for memory in self.keyframes.values():
            tensors += [memory.features, memory.pointers]
        return sum(t.numel() * t.element_size() for t in tensors)

    def as_output_dict(self) -> dict[str, dict[int, dict[str, Any]]]:
        """The memory in the layout `SAM2Base.track_step` reads (its `output_dict`). A frame
        that only keeps its pointer has no spatial memory; reading it there would fail loudly."""
        keyframes = {
            index: self._entry(memory.features, memory.pointers)
            for index, memory in self.keyframes.items()
        }
        recent = {
            index: self._entry(self.features.get(index), pointer)
            for index, pointer in self.pointers.items()
        }
        for index, features in self.features.items():
            recent.setdefault(index, self._entry(features, None))
        return {"cond_frame_outputs": keyframes, "non_cond_frame_outputs": recent}

    def _entry(self, features: torch.Tensor | None, pointers: torch.Tensor | None,
               ) -> dict[str, Any]:
        return {"maskmem_features": features, "maskmem_pos_enc": self.positions,
                "obj_ptr": pointers}


def _stored(memory: FrameMemory) -> FrameMemory:
    return FrameMemory(memory.features.to(MEMORY_DTYPE), memory.pointers)
