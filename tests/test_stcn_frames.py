"""STCN frame preparation: 480 short side, padding to 16, masks scaled back to the frame."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from propagation_helpers import pairs

from models.stcn.frames import padding, processing_size, resize_labels, unpad
from models.stcn.network import STCN
from models.stcn.propagator import STCNPropagator, object_confidence, object_ids


def test_short_side_above_480_is_brought_to_480():
    assert processing_size(480, 854) == (480, 854)
    assert processing_size(232, 420) == (232, 420)
    assert processing_size(720, 1280) == (480, 853)
    assert processing_size(1080, 1920) == (480, 853)
    assert processing_size(1280, 720) == (853, 480)


def test_padding_splits_evenly_with_the_odd_pixel_after():
    assert padding(232, 420) == (6, 6, 4, 4)
    assert padding(480, 854) == (5, 5, 0, 0)
    assert padding(33, 17) == (7, 8, 7, 8)
    tensor = torch.arange(33 * 17).view(1, 33, 17)
    padded = torch.nn.functional.pad(tensor, padding(33, 17))
    assert padded.shape[-2:] == (48, 32)
    assert torch.equal(unpad(padded, padding(33, 17)), tensor)


def test_label_resize_keeps_ids():
    labels = np.zeros((60, 80), np.uint8)
    labels[10:40, 20:50] = 4
    labels[45:, 60:] = 255
    small = resize_labels(labels, (30, 40))
    assert small.shape == (30, 40)
    assert set(np.unique(small)) == {0, 4, 255}


def test_large_frames_are_processed_small_and_masks_come_back_full_size():
    torch.manual_seed(1)
    propagator = STCNPropagator(STCN(), max_short_side=32)
    frames = [np.random.default_rng(i).integers(0, 256, (48, 64, 3), np.uint8) for i in range(3)]
    labels = np.zeros((48, 64), np.uint8)
    labels[8:40, 8:40] = 9
    keyframes = {0: labels}
    assert object_ids(keyframes) == [9]
    results = list(pairs(propagator.propagate(frames, keyframes, [1, 2])))
    assert [index for index, _ in results] == [1, 2]
    for _, result in results:
        assert result.shape == (48, 64)
        assert set(np.unique(result)) <= {0, 9}
    probs = next(iter(propagator.propagate_probabilities(frames, keyframes, [1])))[1]
    assert probs.shape == (2, 48, 64)
    np.testing.assert_allclose(probs.sum(0), 1.0, atol=1e-5)


def test_keyframes_without_objects_give_empty_maps():
    propagator = STCNPropagator(STCN())
    frames = [np.zeros((32, 32, 3), np.uint8)] * 3
    empty = {0: np.zeros((32, 32), np.uint8)}
    results = list(pairs(propagator.propagate(frames, empty, [1, 2])))
    assert [index for index, _ in results] == [1, 2]
    assert all(not result.any() for _, result in results)


def test_confidence_is_the_mean_probability_over_the_pixels_an_object_wins() -> None:
    probs = torch.tensor([
        [[0.8, 0.1], [0.3, 0.6]],  # background
        [[0.1, 0.7], [0.6, 0.2]],  # object 4
        [[0.1, 0.2], [0.1, 0.2]],  # object 9: wins no pixel
    ])
    winners = probs.argmax(dim=0)
    confidence = object_confidence(probs, winners, [4, 9])
    assert confidence == pytest.approx({4: (0.7 + 0.6) / 2, 9: 0.0})


def test_propagated_frames_carry_a_confidence_per_object() -> None:
    torch.manual_seed(0)
    propagator = STCNPropagator(STCN())
    frames = [np.random.default_rng(i).integers(0, 255, (48, 64, 3), np.uint8) for i in range(3)]
    labels = np.zeros((48, 64), np.uint8)
    labels[8:40, 8:40] = 9
    for frame in propagator.propagate(frames, {0: labels}, [1, 2]):
        assert set(frame.confidence) == {9}
        won = frame.labels == 9
        assert (frame.confidence[9] == 0.0) == (not won.any())
        assert 0.0 <= frame.confidence[9] <= 1.0
