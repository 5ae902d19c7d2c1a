"""STCN propagation of label maps from keyframes through consecutive frames (arrays in and out)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from models.protocols import VOID, FrameSequence, PropagatedFrame, ShouldStop
from models.stcn.aggregate import soft_aggregate, winning_channel
from models.stcn.frames import (
    MAX_SHORT_SIDE,
    frame_tensor,
    padding,
    processing_size,
    resize_frame,
    resize_labels,
    unpad,
)
from models.stcn.fuse import fold_batch_norms
from models.stcn.memory import MemoryBank, MemoryLayout
from models.stcn.network import KEY_CHANNELS, STCN, VALUE_CHANNELS, QueryFeatures
from models.stcn.pipeline import FramePipeline, MemoryWrite, worker_split
from models.stcn.winograd import nnpack_ready, use_winograd

DEFAULT_TOP_K = 20
DEFAULT_MEM_EVERY = 5
DEFAULT_MEMORY_FRAMES = 20
# On the CPU, the parts whose 3x3 convolutions run through NNPACK's Winograd kernels. The key
# encoder's ResNet-50 stays on oneDNN in channels-last layout: its 1x1 convolutions dominate,
# and they lose more to layout conversions than its 3x3 ones gain (measured during development
# on the 2-core AVX2 machine; no benchmark script prints this split).
WINOGRAD_PARTS = ("key_proj", "key_comp", "value_encoder", "decoder")


def object_ids(keyframes: Mapping[int, np.ndarray]) -> list[int]:
    """Sorted object ids present in any keyframe (0 background and 255 void excluded)."""
    present: set[int] = set()
    for labels in keyframes.values():
        present.update(int(value) for value in np.unique(labels))
    present.discard(0)
    present.discard(VOID)
    return sorted(present)


def object_confidence(probs: torch.Tensor, winners: torch.Tensor, ids: list[int],
                      ) -> dict[int, float]:
    """Per object: the mean of its probability over the pixels it wins (where it is the
    label), 0 when it wins none. `probs` (K + 1, H, W) with channel 0 background, `winners`
    (H, W) the argmax channel, `ids` the object of each channel after the first."""
    channels = len(ids) + 1
    flat = winners.flatten()
    won = probs.gather(0, winners.unsqueeze(0)).flatten()
    sums = torch.zeros(channels, dtype=won.dtype).scatter_add_(0, flat, won)
    counts = torch.bincount(flat, minlength=channels).clamp_(min=1)
    means = (sums / counts).tolist()
    return {object_id: float(means[channel]) for channel, object_id in enumerate(ids, 1)}


class STCNPropagator:
    """Implements the `Propagator` protocol with the STCN memory network.

    Memory of a pass: the keyframes (permanent; the ones nearest the pass when there are more
    than the budget), every `mem_every`-th propagated frame counted from the start of the pass
    (never the last target) in a window of the most recent ones, and, with `include_last`, the
    previous frame as temporary memory. At most `memory_frames` frames are held; with a budget
    larger than the pass this is exactly the reference STCN inference.

    The propagator takes the network over: it folds its batch norms into the convolutions and
    moves it to `device`. On the CPU it runs in float32, the 3x3 convolutions of
    `WINOGRAD_PARTS` through NNPACK's Winograd kernels (`winograd.py`, NCHW) and the key
    encoder in channels-last layout, its features crossing to NCHW once per frame
    (`layout.py`), with one single-threaded worker per torch thread, each on its own frame
    (`pipeline.py`). On CUDA it runs in channels-last layout under fp16
    autocast with the memory in fp16 (untested: no GPU was at hand).
    """

    name = "STCN"

    def __init__(
        self,
        network: STCN,
        device: torch.device | str = "cpu",
        top_k: int = DEFAULT_TOP_K,
        mem_every: int = DEFAULT_MEM_EVERY,
        memory_frames: int = DEFAULT_MEMORY_FRAMES,
        include_last: bool = False,
        max_short_side: int = MAX_SHORT_SIDE,
    ) -> None:
        if top_k < 1 or mem_every < 1:
            raise ValueError("top_k and mem_every must be at least 1")
        if memory_frames < 1 + int(include_last):
            raise ValueError(f"a memory budget of {memory_frames} frames is too small")
        self.device = torch.device(device)
        self.cuda = self.device.type == "cuda"
        self.top_k = top_k
        self.mem_every = mem_every
        self.memory_frames = memory_frames
        self.include_last = include_last
        self.max_short_side = max_short_side
        self.network = fold_batch_norms(network).to(self.device)
        if self.cuda:
            self.network.to(memory_format=torch.channels_last)
        else:
            use_winograd(self.network, WINOGRAD_PARTS)
            self.network.read_nchw()
            nnpack_ready(worker_split(torch.get_num_threads(), parallel=True)[1])
            self.network.key_encoder.to(memory_format=torch.channels_last)
        self.memory_dtype = torch.float16 if self.cuda else torch.float32
        self.last_memory_frames = 0  # frames the last readout attended to (for budget checks)

    def propagate(self, frames: FrameSequence, keyframes: Mapping[int, np.ndarray],
                  targets: Sequence[int], should_stop: ShouldStop | None = None,
                  ) -> Iterator[PropagatedFrame]:
        ids = object_ids(keyframes)
        lookup = torch.tensor([0, *ids], dtype=torch.uint8)
        for index, probs in self._run(frames, keyframes, targets, ids, should_stop):
            winners = winning_channel(probs).cpu()
            yield PropagatedFrame(index, lookup[winners].numpy(),
                                  object_confidence(probs.float().cpu(), winners, ids))

    def propagate_probabilities(
        self,
        frames: FrameSequence,
        keyframes: Mapping[int, np.ndarray],
        targets: Sequence[int],
        should_stop: Callable[[], bool] | None = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Like `propagate`, with (K + 1, H, W) float32 probabilities instead of labels:
        channel 0 background, then the objects in `object_ids(keyframes)` order."""
        ids = object_ids(keyframes)
        for index, probs in self._run(frames, keyframes, targets, ids, should_stop):
            yield index, probs.float().cpu().numpy()

    def _context(self) -> AbstractContextManager[object]:
        if self.cuda:
            return torch.autocast("cuda", dtype=torch.float16)
        return nullcontext()

    def _run(
        self,
        frames: FrameSequence,
        keyframes: Mapping[int, np.ndarray],
        targets: Sequence[int],
        ids: list[int],
        should_stop: Callable[[], bool] | None,
    ) -> Iterator[tuple[int, torch.Tensor]]:
        targets = list(targets)
        if not targets:
            return
        if not keyframes:
            raise ValueError("propagation needs at least one keyframe")
        first = targets[0]
        chosen = sorted(keyframes, key=lambda index: (abs(index - first), index))
        height, width = np.asarray(keyframes[chosen[0]]).shape[:2]
        if not ids:
            for index in targets:
                if should_stop is not None and should_stop():
                    return
                yield index, torch.ones(1, height, width)
            return
        layout = MemoryLayout.plan(
            self.memory_frames, len(chosen), (len(targets) - 1) // self.mem_every,
            self.include_last,
        )
        permanent = chosen[: layout.permanent]
        pass_state = _Pass(
            self, frames, targets, [(index, keyframes[index]) for index in permanent], ids, layout
        )
        workers, threads = worker_split(torch.get_num_threads(), parallel=not self.cuda)
        pipeline = FramePipeline(pass_state, len(permanent), pass_state.writes, workers, threads)
        results = pipeline.results()
        try:
            for index in targets:
                if should_stop is not None and should_stop():
                    return
                yield index, next(results)
        finally:
            results.close()


class _Encoded(NamedTuple):
    """A target frame's network input and key features."""

    image: torch.Tensor
    query: QueryFeatures


class _Pass:
    """One propagation pass cut into the steps of `FramePipeline`: sizes, object channels, the
    memory bank and which targets write to it."""

    def __init__(
        self,
        owner: STCNPropagator,
        frames: FrameSequence,
        targets: list[int],
        keyframes: list[tuple[int, np.ndarray]],
        ids: list[int],
        layout: MemoryLayout,
    ) -> None:
        self.owner = owner
        self.frames = frames
        self.targets = targets
        self.keyframes = keyframes
        self.ids = ids
        self.size: tuple[int, int] = np.asarray(keyframes[0][1]).shape[:2]
        self.work_size = processing_size(*self.size, owner.max_short_side)
        self.pad = padding(*self.work_size)
        padded_h = self.work_size[0] + self.pad[2] + self.pad[3]
        padded_w = self.work_size[1] + self.pad[0] + self.pad[1]
        pixels = (padded_h // 16) * (padded_w // 16)
        self.memory = MemoryBank(
            layout,
            pixels,
            KEY_CHANNELS,
            len(ids),
            VALUE_CHANNELS,
            owner.device,
            owner.memory_dtype,
        )
        # Counted from 1 over the pass: every mem_every-th target joins the memory, the others
        # (with include_last) are the temporary memory; the last target never writes.
        last = len(targets)
        self.memory_frame = [n % owner.mem_every == 0 and n != last for n in range(1, last + 1)]
        self.writes = [
            memory or (owner.include_last and n != last)
            for n, memory in enumerate(self.memory_frame, start=1)
        ]
        self._read_lock = threading.Lock()  # a frame sequence need not be thread-safe

    @contextmanager
    def _compute(self) -> Iterator[None]:
        with torch.inference_mode(), self.owner._context():
            yield

    def _image(self, index: int) -> torch.Tensor:
        with self._read_lock:
            frame = np.asarray(self.frames[index])
        if frame.shape[:2] != self.size:
            raise ValueError(
                f"frame is {frame.shape[1]}x{frame.shape[0]}, "
                f"the keyframes are {self.size[1]}x{self.size[0]}"
            )
        return frame_tensor(resize_frame(frame, self.work_size), self.pad, self.owner.device)

    def _one_hot(self, labels: np.ndarray) -> torch.Tensor:
        """(K, 1, H', W') padded float masks of the objects; void counts as background."""
        if labels.shape != self.size:
            raise ValueError(
                f"label map is {labels.shape[1]}x{labels.shape[0]}, "
                f"the frames are {self.size[1]}x{self.size[0]}"
            )
        small = torch.from_numpy(np.array(resize_labels(labels, self.work_size), dtype=np.uint8))
        ids = torch.tensor(self.ids, dtype=small.dtype)
        masks = (small.unsqueeze(0) == ids.view(-1, 1, 1)).float()
        return F.pad(masks.unsqueeze(1).to(self.owner.device), self.pad)

    def keyframe(self, number: int) -> MemoryWrite:
        index, labels = self.keyframes[number]
        network = self.owner.network
        with self._compute():
            image = self._image(index)
            query = network.encode_key(image)
            probs = soft_aggregate(self._one_hot(np.asarray(labels)))
            value = network.encode_value(image, query.f16, probs[1:])
        return lambda: self.memory.add_permanent(query.key[0], value)

    def encode(self, position: int) -> _Encoded:
        with self._compute():
            image = self._image(self.targets[position])
            return _Encoded(image, self.owner.network.encode_key(image))

    def segment(self, encoded: _Encoded) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded (K + 1, H', W') probabilities at the working size, and the same unpadded at
        the frame's size."""
        network = self.owner.network
        with self._compute():
            self.owner.last_memory_frames = self.memory.frame_count
            readout = self.memory.read(encoded.query.key[0], self.owner.top_k)
            probs = soft_aggregate(network.segment(readout, encoded.query).float())
            result = unpad(probs[:, 0], self.pad)
            if self.work_size != self.size:
                result = F.interpolate(
                    result.unsqueeze(0), size=self.size, mode="bilinear", align_corners=False
                )[0]
        return probs, result

    def remember(self, position: int, encoded: _Encoded, probs: torch.Tensor) -> MemoryWrite:
        with self._compute():
            value = self.owner.network.encode_value(encoded.image, encoded.query.f16, probs[1:])
        key = encoded.query.key[0]
        if self.memory_frame[position]:
            return lambda: self.memory.add_frame(key, value)
        return lambda: self.memory.set_temporary(key, value)
