"""A scripted annotation session through the real window, offscreen: open, click, accept,
propagate, fix with the brush, propagate again, undo, redo, save; then the files are read back."""

from __future__ import annotations

import json

import numpy as np
from gui_helpers import (
    LONG_WAIT_MS,
    click_image,
    drag_image,
    ground_truth,
    iou,
    make_lvos_dataset,
    make_window,
    open_and_wait,
    press_key,
)
from PIL import Image
from PyQt6.QtCore import Qt

from annotator.annotation import FrameState
from annotator.engine.click_protocol import next_click
from annotator.formats.masks import read_label_map

SEQUENCE, FRAMES = "bear", 16
CLICK = (311, 290)  # the deepest point inside the bear on frame 0
GOOD_FIT, MAX_CLICKS = 0.85, 12  # the classic segmenter needs 9 clicks on this frame
STROKE = [(600, 60), (640, 70), (680, 80), (720, 90)]  # on the wall, far from the bear
BRUSH = 21


def wait_propagation(qtbot, controller) -> None:
    with qtbot.waitSignal(controller.propagation.finished, timeout=LONG_WAIT_MS) as blocker:
        pass
    assert blocker.args == [False]  # finished, not cancelled


def test_scripted_session(qtbot, tmp_path, monkeypatch, davis_root):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", SEQUENCE, FRAMES)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, root)
    assert c.frame_count == FRAMES and c.frame_size() == (480, 854)

    # click inside the bear; the person looks at the candidates, keeps the one that fits best,
    # then clicks where the mask is still wrong (left adds, right removes) until it fits
    click_image(window, *CLICK)
    qtbot.waitUntil(lambda: c.clicker.mask() is not None, timeout=LONG_WAIT_MS)
    truth = ground_truth(davis_root, SEQUENCE, 0)
    fits = []
    for _ in range(c.clicker.count):
        fits.append(iou(c.clicker.mask(), truth))
        press_key(window, Qt.Key.Key_Tab)
    while iou(c.clicker.mask(), truth) < max(fits):
        press_key(window, Qt.Key.Key_Tab)
    for clicks in range(1, MAX_CLICKS):
        if iou(c.clicker.mask(), truth) >= GOOD_FIT:
            break
        x, y, positive = next_click(c.clicker.mask(), truth)
        button = Qt.MouseButton.LeftButton if positive else Qt.MouseButton.RightButton
        click_image(window, x, y, button)
        qtbot.waitUntil(lambda n=clicks: len(c.clicker.clicks) > n and not c.clicker.pending,
                        timeout=LONG_WAIT_MS)
    accepted = c.clicker.mask().copy()
    assert iou(accepted, truth) >= GOOD_FIT
    press_key(window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: c.clicker.mask() is None)
    first = c.annotation.label_map(0)
    assert np.array_equal(first == 1, accepted) and set(np.unique(first)) == {0, 1}
    assert c.annotation.state(0, 1) == FrameState.KEYFRAME

    # propagate forward with the weights-free engine
    press_key(window, Qt.Key.Key_F)
    wait_propagation(qtbot, c)
    pass_one = [c.annotation.label_map(i) for i in range(FRAMES)]
    assert all(c.annotation.state(i, 1) == FrameState.PROPAGATED for i in range(1, FRAMES))
    last = FRAMES - 1
    assert iou(pass_one[last] == 1, ground_truth(davis_root, SEQUENCE, last)) >= 0.6
    qtbot.waitUntil(  # the timeline shows the keyframe and the propagated frames
        lambda: window.timeline.rows[0].states.tolist() == [3] + [1] * (FRAMES - 1))

    # fix frame 8 with the brush: a stroke on the wall becomes part of the object there
    fixed = 8
    c.set_index(fixed)
    press_key(window, Qt.Key.Key_B)
    window.brush_size.setValue(BRUSH)
    drag_image(window, STROKE)
    edited = c.annotation.label_map(fixed)
    for x, y in STROKE:
        assert edited[y, x] == 1
    added = (edited == 1) & (pass_one[fixed] != 1)
    assert 1500 < added.sum() < 6000  # a 21 px wide stroke about 130 px long
    assert c.annotation.state(fixed, 1) == FrameState.EDITED

    # propagate again from the corrected frame: only the frames after it change
    press_key(window, Qt.Key.Key_F)
    wait_propagation(qtbot, c)
    pass_two = [c.annotation.label_map(i) for i in range(FRAMES)]
    assert all(np.array_equal(pass_two[i], pass_one[i]) for i in range(fixed))
    assert np.array_equal(pass_two[fixed], edited)
    assert any(not np.array_equal(pass_two[i], pass_one[i]) for i in range(fixed + 1, FRAMES))

    # undo takes back the whole second pass; redo brings it back
    press_key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert all(np.array_equal(c.annotation.label_map(i), pass_one[i] if i != fixed else edited)
               for i in range(FRAMES))
    press_key(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert all(np.array_equal(c.annotation.label_map(i), pass_two[i]) for i in range(FRAMES))

    # save, then read every file back
    press_key(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert c.autosaver.wait_idle()
    assert not c.annotation.is_dirty
    masks = root / "Annotations" / SEQUENCE
    names = sorted(p.stem for p in masks.glob("*.png"))
    assert names == [f"{i:05d}" for i in range(FRAMES)]
    for i in range(FRAMES):
        path = masks / f"{i:05d}.png"
        with Image.open(path) as image:
            assert image.mode == "P" and len(image.getpalette()) == 256 * 3
            assert image.getpalette()[3:6] == [128, 0, 0]  # DAVIS colour of object 1
        assert np.array_equal(read_label_map(path, (480, 854)), pass_two[i])
    meta = json.loads((root / "train_meta.json").read_text())
    entry = meta["videos"][SEQUENCE]
    assert entry["image_size"] == [480, 854]
    assert entry["objects"]["1"]["frame_range"]["start"] == "00000"
    assert entry["objects"]["1"]["frame_range"]["end"] == f"{FRAMES - 1:05d}"
    state = json.loads((root / ".annotator" / f"{SEQUENCE}.json").read_text())
    assert state["frames"] == FRAMES and [o["id"] for o in state["objects"]] == [1]
    assert not (root / ".annotator" / f"{SEQUENCE}.journal").exists()
    assert window.last_error == ""
