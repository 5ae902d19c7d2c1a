"""The simulated click protocol: where the next click goes, and NoC counting."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.engine.click_protocol import (
    ProtocolRun,
    iou,
    mean_capped,
    mean_noc,
    next_click,
)


def test_first_click_is_the_centre_of_the_object():
    truth = np.zeros((60, 80), bool)
    truth[10:41, 25:56] = True  # 31 x 31 square centred on (40, 25)
    x, y, positive = next_click(np.zeros_like(truth), truth)
    assert positive and (x, y) == (40, 25)


def test_the_deepest_error_wins_and_sets_the_sign():
    truth = np.zeros((100, 100), bool)
    truth[10:90, 10:50] = True
    mask = truth.copy()
    mask[40:80, 60:95] = True  # a 40 x 35 false positive
    mask[20:26, 20:26] = False  # a small false negative
    x, y, positive = next_click(mask, truth)
    assert not positive and 60 <= x < 95 and 40 <= y < 80
    assert next_click(truth, truth) is None


def test_void_pixels_are_neither_clicked_nor_counted():
    truth = np.zeros((50, 50), bool)
    truth[5:45, 5:25] = True
    valid = np.ones_like(truth)
    valid[:, 25:] = False
    mask = np.zeros_like(truth)
    mask[:, 25:] = True  # wrong only where it does not count
    mask[5:45, 5:25] = True
    assert next_click(mask, truth, valid) is None
    assert iou(mask, truth, valid) == 1.0
    assert iou(mask, truth) < 0.5


def test_noc_counts_clicks_and_caps_at_the_limit():
    runs = [ProtocolRun([0.5, 0.86, 0.91], [0.1] * 3), ProtocolRun([0.2] * 20, [0.1] * 20)]
    assert runs[0].clicks_to_reach(0.85) == 2
    assert runs[0].clicks_to_reach(0.90) == 3
    assert mean_noc(runs, 0.85) == (2 + 20) / 2


def test_capped_mean_is_the_area_under_the_capped_curve_over_the_click_budget():
    stopped = ProtocolRun([0.5, 0.86, 0.91], [0.1] * 3)  # stopped on reaching 0.90
    assert stopped.capped_mean(0.90) == pytest.approx((0.5 + 0.86 + 0.90 * 18) / 20)
    slow = ProtocolRun([0.2] * 10 + [0.95] * 10, [0.1] * 20)
    assert slow.capped_mean(0.90) == pytest.approx((0.2 * 10 + 0.90 * 10) / 20)
    assert mean_capped([stopped, slow]) == pytest.approx(
        (stopped.capped_mean() + slow.capped_mean()) / 2
    )
    assert slow.capped_mean(0.90) < stopped.capped_mean(0.90)  # same NoC@90 limit, worse curve
