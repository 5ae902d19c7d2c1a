"""Frames in flight on worker threads: every frame reads exactly the memory the sequential loop
would give it, results come in order, and stopping, errors and early closing leave no thread."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from models.stcn.network import STCN
from models.stcn.pipeline import FramePipeline, MemoryWrite, worker_split
from models.stcn.propagator import STCNPropagator


class RecordingSteps:
    """Stand-in steps over a list memory: each target's result is the memory it read."""

    def __init__(self, keyframes: int, delay: float, fail_at: int | None = None) -> None:
        self.memory: list[str] = []
        self.keyframes = keyframes
        self.delay = delay
        self.fail_at = fail_at
        self.concurrent = 0
        self.most_concurrent = 0
        self.lock = threading.Lock()

    def _busy(self) -> None:
        with self.lock:
            self.concurrent += 1
            self.most_concurrent = max(self.most_concurrent, self.concurrent)
        time.sleep(self.delay)
        with self.lock:
            self.concurrent -= 1

    def keyframe(self, number: int) -> MemoryWrite:
        self._busy()
        return lambda: self.memory.append(f"k{number}")

    def encode(self, position: int) -> int:
        if position == self.fail_at:
            raise ValueError(f"frame {position} is unreadable")
        self._busy()
        return position

    def segment(self, encoded: int) -> tuple[torch.Tensor, torch.Tensor]:
        seen = list(self.memory)
        self._busy()
        return torch.tensor([encoded]), torch.tensor([len(seen), *[hash(m) for m in seen]])

    def remember(self, position: int, encoded: int, probs: torch.Tensor) -> MemoryWrite:
        assert int(probs[0]) == encoded == position
        self._busy()
        return lambda: self.memory.append(f"t{position}")


def expected_reads(keyframes: int, writes: list[bool]) -> list[list[str]]:
    memory = [f"k{n}" for n in range(keyframes)]
    reads = []
    for position, write in enumerate(writes):
        reads.append(list(memory))
        if write:
            memory.append(f"t{position}")
    return reads


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("every", [1, 2, 5])
def test_each_frame_reads_the_memory_of_the_sequential_loop(workers, every):
    writes = [(p + 1) % every == 0 and p != 11 for p in range(12)]
    steps = RecordingSteps(keyframes=2, delay=0.002)
    results = list(FramePipeline(steps, 2, writes, workers, 1).results())
    for result, memory in zip(results, expected_reads(2, writes), strict=True):
        assert result.tolist() == [len(memory), *[hash(m) for m in memory]]
    assert steps.memory == [*expected_reads(2, writes)[-1], *(["t11"] if writes[-1] else [])]
    if workers > 1 and every == 5:
        assert steps.most_concurrent >= 2  # frames did overlap


def test_an_error_in_a_worker_reaches_the_consumer_and_no_thread_is_left():
    before = threading.active_count()
    steps = RecordingSteps(keyframes=1, delay=0.001, fail_at=4)
    with pytest.raises(ValueError, match="frame 4 is unreadable"):
        list(FramePipeline(steps, 1, [False] * 8, 2, 1).results())
    assert threading.active_count() == before


def test_closing_early_stops_the_workers():
    before = threading.active_count()
    results = FramePipeline(RecordingSteps(1, 0.001), 1, [False] * 50, 2, 1).results()
    next(results)
    results.close()
    assert threading.active_count() == before


def test_workers_are_single_threaded_on_the_cpu_and_one_on_cuda():
    assert worker_split(2, parallel=True) == (2, 1)
    assert worker_split(8, parallel=True) == (4, 2)
    assert worker_split(1, parallel=True) == (1, 1)
    assert worker_split(8, parallel=False) == (1, 8)


@pytest.mark.parametrize("include_last", [False, True])
def test_two_workers_give_the_labels_of_one(include_last):
    rng = np.random.default_rng(5)
    frames = [rng.integers(0, 256, (64, 96, 3), np.uint8) for _ in range(9)]
    labels = np.zeros((64, 96), np.uint8)
    labels[10:40, 10:50] = 1
    labels[30:60, 50:90] = 2
    threads = torch.get_num_threads()
    runs = []
    try:
        for count in (1, 2):
            torch.set_num_threads(count)
            torch.manual_seed(3)
            propagator = STCNPropagator(STCN(), mem_every=2, include_last=include_last)
            runs.append(list(propagator.propagate_probabilities(frames, {0: labels}, range(1, 9))))
    finally:
        torch.set_num_threads(threads)
    assert torch.get_num_threads() == threads
    for (index_one, one), (index_two, two) in zip(*runs, strict=True):
        assert index_one == index_two
        np.testing.assert_allclose(one, two, atol=1e-5)
        assert np.array_equal(one.argmax(0), two.argmax(0))
