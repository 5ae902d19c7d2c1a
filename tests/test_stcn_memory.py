"""STCN memory: the budget split, the bounded window, keyframes kept, and the top-k readout."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from propagation_helpers import pairs

from models.stcn.memory import MemoryBank, MemoryLayout
from models.stcn.network import STCN
from models.stcn.propagator import STCNPropagator

CPU = torch.device("cpu")


def make_bank(layout: MemoryLayout, objects: int = 2, pixels: int = 12) -> MemoryBank:
    return MemoryBank(layout, pixels, 8, objects, 16, CPU, torch.float32)


def random_frame(seed: int, objects: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    key = torch.randn(8, 3, 4, generator=generator)
    value = torch.randn(objects, 16, 3, 4, generator=generator)
    return key, value


def test_layout_keeps_keyframes_first_then_the_window():
    assert MemoryLayout.plan(20, 2, 100, False) == MemoryLayout(2, 18, False)
    assert MemoryLayout.plan(20, 2, 3, False) == MemoryLayout(2, 3, False)
    assert MemoryLayout.plan(5, 9, 100, True) == MemoryLayout(4, 0, True)
    assert MemoryLayout.plan(6, 2, 100, True).slots == 6
    with pytest.raises(ValueError):
        MemoryLayout.plan(1, 1, 10, True)


def test_window_is_a_ring_and_keyframes_stay():
    bank = make_bank(MemoryLayout(2, 3, False))
    keyframes = [random_frame(seed) for seed in (100, 101)]
    for key, value in keyframes:
        bank.add_permanent(key, value)
    added = [random_frame(seed) for seed in range(10)]
    for key, value in added:
        bank.add_frame(key, value)
        assert bank.frame_count <= 5
    assert bank.frame_count == 5
    stored = {tuple(bank.keys[slot, 0, :3].tolist()) for slot in range(5)}
    expected = [keyframes[0], keyframes[1], *added[-3:]]
    assert stored == {tuple(k.flatten(1)[:3, 0].tolist()) for k, _ in expected}
    torch.testing.assert_close(bank.keys[0], keyframes[0][0].flatten(1).T)


def test_temporary_frame_is_replaced_and_cleared():
    bank = make_bank(MemoryLayout(1, 2, True))
    bank.add_permanent(*random_frame(1))
    bank.set_temporary(*random_frame(2))
    assert bank.frame_count == 2
    bank.set_temporary(*random_frame(3))
    assert bank.frame_count == 2
    bank.add_frame(*random_frame(4))
    assert bank.frame_count == 2
    for seed in (5, 6, 7):
        bank.add_frame(*random_frame(seed))
        bank.set_temporary(*random_frame(seed + 10))
        assert bank.frame_count == 4


def dense_readout(keys, values, query, top_k):
    """The readout as the STCN paper writes it: full affinity, top-k softmax, weighted sum."""
    memory_keys = torch.cat([k.flatten(1) for k in keys], 1)
    memory_values = torch.cat([v.flatten(2) for v in values], 2)
    q = query.flatten(1)
    affinity = (2 * memory_keys.T @ q - memory_keys.pow(2).sum(0)[:, None]) / math.sqrt(8)
    top, index = affinity.topk(top_k, dim=0)
    weights = torch.zeros_like(affinity).scatter_(0, index, torch.softmax(top, 0))
    return (memory_values @ weights).view(values[0].shape[0], 16, *query.shape[1:])


@pytest.mark.parametrize("top_k", [1, 5, 20])
def test_readout_matches_the_dense_top_k_formula(top_k):
    bank = make_bank(MemoryLayout(1, 3, False))
    frames = [random_frame(seed) for seed in range(4)]
    bank.add_permanent(*frames[0])
    for frame in frames[1:]:
        bank.add_frame(*frame)
    query = random_frame(99)[0]
    expected = dense_readout([k for k, _ in frames], [v for _, v in frames], query, top_k)
    torch.testing.assert_close(bank.read(query, top_k), expected, rtol=1e-5, atol=1e-5)


class CountingClip:
    """Tiny frames made on demand; remembers which indices were read."""

    def __init__(self, length: int) -> None:
        self.length = length
        self.read: list[int] = []

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> np.ndarray:
        self.read.append(index)
        rng = np.random.default_rng(index)
        return rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def small_network() -> STCN:
    torch.manual_seed(0)
    return STCN()


def keyframe_labels() -> np.ndarray:
    labels = np.zeros((48, 64), np.uint8)
    labels[10:30, 10:30] = 3
    labels[5:15, 40:60] = 7
    labels[40:, :5] = 255
    return labels


@pytest.mark.parametrize("include_last", [False, True])
def test_memory_never_exceeds_budget(small_network, include_last):
    budget = 4
    propagator = STCNPropagator(
        small_network, mem_every=2, memory_frames=budget, include_last=include_last
    )
    clip = CountingClip(12)
    keyframes = {0: keyframe_labels(), 1: keyframe_labels()}
    counts = []
    for _, labels in pairs(propagator.propagate(clip, keyframes, range(2, 12))):
        counts.append(propagator.last_memory_frames)
        assert labels.shape == (48, 64) and labels.dtype == np.uint8
        assert set(np.unique(labels)) <= {0, 3, 7}
    assert max(counts) == budget
    assert min(counts) == 2  # the two keyframes are always there
    assert clip.read.count(5) == 1  # each frame read once, on demand


def test_budget_larger_than_the_pass_changes_nothing(small_network):
    clip = CountingClip(6)
    keyframes = {0: keyframe_labels()}
    results = []
    for budget in (4, 100):
        propagator = STCNPropagator(small_network, mem_every=2, memory_frames=budget)
        results.append(list(propagator.propagate_probabilities(clip, keyframes, range(1, 6))))
    for (i, a), (j, b) in zip(*results, strict=True):
        assert i == j
        np.testing.assert_array_equal(a, b)
