"""The weights-free click segmenter on real DAVIS dev frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from annotator.engine.click_protocol import iou, next_click, run_protocol
from annotator.engine.click_session import ClickSession
from annotator.formats.masks import read_label_map
from models.classic.segmenter import ClassicSegmenter
from models.protocols import ClickSegmenter


def first_frame(davis_root, seq: str) -> tuple[np.ndarray, np.ndarray]:
    image = sorted((davis_root / "JPEGImages/480p" / seq).glob("*.jpg"))[0]
    labels = read_label_map(davis_root / "Annotations/480p" / seq / f"{image.stem}.png")
    return np.array(Image.open(image).convert("RGB")), labels == 1


@pytest.fixture
def session() -> ClickSession:
    segmenter = ClassicSegmenter()
    assert isinstance(segmenter, ClickSegmenter)
    return ClickSession(segmenter)


@pytest.mark.parametrize("seq", ["hike", "soccerball"])
def test_click_protocol_reaches_high_iou_within_a_few_clicks(davis_root, session, seq):
    frame, truth = first_frame(davis_root, seq)
    run = run_protocol(session, frame, truth, max_clicks=8, stop_at=0.88)
    assert max(run.ious) >= 0.88, run.ious


def test_a_box_alone_finds_the_object(davis_root, session):
    frame, truth = first_frame(davis_root, "rhino")
    ys, xs = np.nonzero(truth)
    session.set_frame(0, frame)
    prediction = session.set_box(xs.min() - 5, ys.min() - 5, xs.max() + 5, ys.max() + 5)
    assert prediction.masks.shape[1:] == truth.shape
    # the filled box scores 0.56 here
    assert iou(prediction.masks[0], truth) >= 0.75
    # nothing outside the box
    outside = np.ones_like(truth)
    outside[ys.min() - 5: ys.max() + 6, xs.min() - 5: xs.max() + 6] = False
    assert not (prediction.masks[0] & outside).any()


def test_clicks_are_always_honoured(davis_root, session):
    frame, truth = first_frame(davis_root, "bear")
    session.set_frame(0, frame)
    first = session.add_click(300, 300, True)
    assert 1 <= len(first.masks) <= 3 and first.logits.shape[1:] == (256, 256)
    rng = np.random.default_rng(0)
    ys, xs = np.nonzero(truth)
    by, bx = np.nonzero(~truth)
    for _ in range(3):
        i, j = rng.integers(len(xs)), rng.integers(len(bx))
        session.add_click(float(xs[i]), float(ys[i]), True)
        session.add_click(float(bx[j]), float(by[j]), False)
        mask = session.mask
        for click in session.clicks:
            assert mask[int(click.y), int(click.x)] == click.positive
    assert mask.sum() < 0.5 * mask.size


def test_first_click_candidates_are_distinct_and_scored(davis_root, session):
    frame, _ = first_frame(davis_root, "soccerball")
    session.set_frame(0, frame)
    prediction = session.add_click(100, 100, True)
    masks = prediction.masks
    assert len(masks) == len(prediction.scores) == len(prediction.logits)
    for a in range(len(masks)):
        for b in range(a + 1, len(masks)):
            assert not np.array_equal(masks[a], masks[b])
    assert np.all((prediction.scores >= 0) & (prediction.scores <= 1))


def test_one_click_on_a_large_object_ranks_more_than_a_blob_first(davis_root, session):
    """One click at the centre of bear (12 % of the frame): the top candidate covers much of
    the bear. Before the edge-stopped seed regions the top one was a 1 % blob, IoU 0.08; now
    0.46. No candidate covers most of the frame."""
    frame, truth = first_frame(davis_root, "bear")
    x, y, _ = next_click(np.zeros_like(truth), truth)
    session.set_frame(0, frame)
    prediction = session.add_click(x, y, True)
    assert iou(prediction.masks[0], truth) > 0.35
    for mask in prediction.masks:
        assert mask.any() and mask.mean() < 0.5


def test_candidates_are_never_empty_and_stay_in_a_tight_box(davis_root, session):
    frame, truth = first_frame(davis_root, "rhino")
    session.set_frame(0, frame)
    # a tight box around a patch of ground: little to tell apart inside it
    prediction = session.set_box(40, 400, 90, 440)
    inside = np.zeros_like(truth)
    inside[400:441, 40:91] = True
    for mask in prediction.masks:
        assert mask.any() and not (mask & ~inside).any()


def test_a_negative_click_removes_the_region_it_lands_in(davis_root, session):
    frame, truth = first_frame(davis_root, "bear")
    session.set_frame(0, frame)
    ys, xs = np.nonzero(truth)
    box = (xs.min() - 60, ys.min() - 60, xs.max() + 60, ys.max() + 60)
    session.set_box(*box)
    extra = session.mask & ~truth
    _count, parts = cv2.connectedComponents(extra.astype(np.uint8))
    largest = 1 + int(np.argmax(np.bincount(parts.reshape(-1))[1:]))
    region = parts == largest
    x, y, positive = next_click(region, np.zeros_like(region))
    assert not positive and region.sum() > 2000, region.sum()
    session.add_click(x, y, False)
    # far more than a blob round the click (before issue 12: 25 of 44,443 pixels went)
    assert (session.mask & region).sum() < 0.7 * region.sum()


@pytest.mark.parametrize("seq", ["bear", "rhino", "boat"])
def test_a_later_click_never_undoes_earlier_ones(davis_root, session, seq):
    """After the first click, a positive click only adds to the mask and a negative one only
    takes away (before: GrabCut re-ran over everything, so a click could lose what earlier
    ones fixed: dog-agility, davis16-tune, went from 0.18 after one click to 0.02 after five)."""
    frame, truth = first_frame(davis_root, seq)
    session.set_frame(0, frame)
    mask = np.zeros_like(truth)
    for _ in range(8):
        x, y, positive = next_click(mask, truth)
        session.add_click(x, y, positive)
        new = session.mask
        if mask.any():
            lost, gained = (mask & ~new).sum(), (new & ~mask).sum()
            assert (lost if positive else gained) == 0, (seq, positive, lost, gained)
            assert (new ^ mask).sum() > 0, seq
        mask = new


def test_a_click_on_a_small_detached_part_adds_that_part_only(davis_root, session):
    """On paragliding, a click on the pilot below the canopy adds the pilot, not the sky
    around him (with a zone sized only by the distance to the mask, it grew by 92,000 pixels and
    IoU fell from 0.87 to 0.09)."""
    frame, truth = first_frame(davis_root, "paragliding")
    session.set_frame(0, frame)
    session.add_click(644, 157, True)  # the canopy's centre
    before = session.mask.copy()
    session.add_click(632, 366, True)  # the pilot
    added = session.mask & ~before
    assert 0 < added.sum() < 3000, added.sum()
    assert (added & truth).sum() > 0.6 * added.sum()
    assert iou(session.mask, truth) > 0.9


def test_a_box_and_a_click_inside_its_mask_keep_the_box_mask(davis_root, session):
    """A click at the centre of an object the box already found changes little (before: the
    box's 0.93 on hike fell to 0.88 with the click)."""
    frame, truth = first_frame(davis_root, "hike")
    session.set_frame(0, frame)
    ys, xs = np.nonzero(truth)
    session.set_box(xs.min(), ys.min(), xs.max(), ys.max())
    boxed = iou(session.mask, truth)
    x, y, _ = next_click(np.zeros_like(truth), truth)
    session.add_click(x, y, True)
    clicked = iou(session.mask, truth)
    assert boxed >= 0.9 and clicked >= boxed - 0.01, (boxed, clicked)


def test_a_click_that_agrees_with_the_mask_changes_nothing(davis_root, session):
    """A positive click inside the mask, or a negative one outside it, leaves the mask as it
    is (before, GrabCut ran again: mallard-water's box mask, 0.879, fell to 0.841)."""
    frame, truth = first_frame(davis_root, "mallard-water")
    session.set_frame(0, frame)
    ys, xs = np.nonzero(truth)
    session.set_box(xs.min(), ys.min(), xs.max(), ys.max())
    boxed = session.mask.copy()
    x, y, _ = next_click(np.zeros_like(truth), truth)
    assert boxed[int(y), int(x)]
    session.add_click(x, y, True)
    assert np.array_equal(session.mask, boxed)
    session.add_click(5, 5, False)  # the frame's corner, outside the box
    assert np.array_equal(session.mask, boxed)


def test_a_negative_click_does_not_take_away_a_distant_part_of_other_colours(davis_tune_root,
                                                                              session):
    """dog-agility (davis16-tune): the fifth click, negative, on the grass between the dog's
    legs; the pass over the whole mask after it took the dog's white head away too (IoU 0.57
    to 0.31 before this guard; now the head stays: 0.65)."""
    frame, truth = first_frame(davis_tune_root, "dog-agility")
    session.set_frame(0, frame)
    mask = np.zeros_like(truth)
    for _ in range(5):
        x, y, positive = next_click(mask, truth)
        session.add_click(x, y, positive)
        before, mask = mask, session.mask
    assert not positive
    assert iou(mask, truth) > iou(before, truth) + 0.05
    assert (before & ~mask & truth).sum() < 0.05 * truth.sum()
