"""Propagation from the window: only the selected objects, cancelling a pass, and the keyframes
read in the worker."""

from __future__ import annotations

import threading

import numpy as np
from gui_helpers import LONG_WAIT_MS, make_lvos_dataset, make_window, open_and_wait, press_key
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QInputDialog

from annotator.annotation import FrameState
from annotator.gui.progress_text import ProgressText


def ready(qtbot, tmp_path, monkeypatch, davis_root, frames: int):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", frames, first_mask=True)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, root)
    qtbot.waitUntil(lambda: "loading" not in c.propagation.description, timeout=LONG_WAIT_MS)
    return window, c


def test_propagate_only_the_selected_object(qtbot, tmp_path, monkeypatch, davis_root):
    window, c = ready(qtbot, tmp_path, monkeypatch, davis_root, 4)
    c.add_object()
    rock = np.zeros((480, 854), bool)
    rock[380:470, 600:760] = True
    c.paint(rock)
    qtbot.waitUntil(lambda: window.objects.tree.topLevelItemCount() == 2)
    window.objects.tree.setCurrentItem(window.objects.tree.topLevelItem(1))
    window.propagate_selected.setChecked(True)
    assert window.objects.selected_ids() == [2]
    with qtbot.waitSignal(c.propagation.finished, timeout=LONG_WAIT_MS):
        window.propagate("forward")
    for index in (1, 2, 3):
        labels = c.annotation.label_map(index)
        assert c.annotation.state(index, 2) == FrameState.PROPAGATED
        assert c.annotation.state(index, 1) == FrameState.EMPTY and not (labels == 1).any()
        assert (labels == 2).sum() > 0.5 * rock.sum()


def test_cancel_stops_the_pass_and_keeps_what_was_done(qtbot, tmp_path, monkeypatch,
                                                        davis_root):
    window, c = ready(qtbot, tmp_path, monkeypatch, davis_root, 25)
    done: list[int] = []
    c.propagation.progress.connect(lambda finished, total: done.append(finished))
    with qtbot.waitSignal(c.propagation.finished, timeout=LONG_WAIT_MS) as finished:
        window.propagate("forward")
        qtbot.waitUntil(lambda: bool(done), timeout=LONG_WAIT_MS)
        shown = window.status.progress_label  # its text is never clipped
        assert shown.text().startswith(f"propagating {done[-1]} / 24")
        assert shown.width() >= shown.fontMetrics().horizontalAdvance(shown.text())
        window.cancel_button.click()
    assert finished.args == [True]
    states = [c.annotation.state(i, 1) for i in range(1, 25)]
    reached = states.count(FrameState.PROPAGATED)
    assert 1 <= reached < 24 and states[:reached] == [FrameState.PROPAGATED] * reached
    assert not window.progress.isVisible()
    c.undo()  # the cancelled pass is one undo step
    qtbot.waitUntil(lambda: not c.busy, timeout=LONG_WAIT_MS)
    assert all(c.annotation.state(i, 1) == FrameState.EMPTY for i in range(1, 25))


def test_keyframes_are_read_in_the_worker(qtbot, tmp_path, monkeypatch, davis_root):
    window, c = ready(qtbot, tmp_path, monkeypatch, davis_root, 3)
    reads: list[tuple[int, bool]] = []  # (frame, read on the GUI thread)
    read_label_map = c.annotation.label_map

    def recording(index: int) -> np.ndarray:
        reads.append((index, threading.current_thread() is threading.main_thread()))
        return read_label_map(index)

    monkeypatch.setattr(c.annotation, "label_map", recording)
    with qtbot.waitSignal(c.propagation.finished, timeout=LONG_WAIT_MS):
        window.propagate("forward")
        assert not any(on_gui for _, on_gui in reads)  # starting a pass decodes no keyframe
    assert (0, False) in reads  # the worker read keyframe 0
    assert [c.annotation.state(i, 1) for i in (1, 2)] == [FrameState.PROPAGATED] * 2


def test_propagate_up_to_a_chosen_frame(qtbot, tmp_path, monkeypatch, davis_root):
    window, c = ready(qtbot, tmp_path, monkeypatch, davis_root, 8)
    asked: list[tuple] = []

    def frame_five(parent, title, label, value, low, high):
        asked.append((value, low, high))
        return 5, True

    monkeypatch.setattr(QInputDialog, "getInt", frame_five)
    with qtbot.waitSignal(c.propagation.finished, timeout=LONG_WAIT_MS):
        press_key(window, Qt.Key.Key_F,
                  Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert asked == [(8, 1, 8)]
    states = [c.annotation.state(i, 1) for i in range(8)]
    assert states == [FrameState.KEYFRAME] + [FrameState.PROPAGATED] * 4 + [FrameState.EMPTY] * 3
    assert c.annotation.history.undo_name == "propagate forward from frame 1 to frame 5"

    c.set_index(7)  # a keyframe on the last frame, carried back down to frame 6 only
    c.paint(c.annotation.label_map(4) == 1)
    before = c.annotation.label_map(4)
    monkeypatch.setattr(QInputDialog, "getInt", lambda *args: (6, True))
    with qtbot.waitSignal(c.propagation.finished, timeout=LONG_WAIT_MS):
        window.propagate_to()
    assert [c.annotation.state(i, 1) for i in (5, 6, 7)] == [
        FrameState.PROPAGATED, FrameState.PROPAGATED, FrameState.KEYFRAME]
    assert np.array_equal(c.annotation.label_map(4), before)  # beyond frame 6: untouched
    assert c.annotation.history.undo_name == "propagate backward from frame 8 to frame 6"


def test_a_new_objects_propagation_leaves_annotated_pixels_alone(qtbot, tmp_path, monkeypatch,
                                                                davis_root):
    window, c = ready(qtbot, tmp_path, monkeypatch, davis_root, 4)
    with qtbot.waitSignal(c.propagation.finished, timeout=LONG_WAIT_MS):
        window.propagate("forward")
    bear = {i: c.annotation.label_map(i) == 1 for i in range(4)}
    assert all(bear[i].sum() > 1000 for i in range(1, 4))
    c.add_object()  # a box over the bear's back and the ground beside it
    box = np.zeros((480, 854), bool)
    ys, xs = np.nonzero(bear[0])
    box[ys.min() : ys.min() + 120, xs.min() + 60 : xs.max() + 80] = True
    c.paint(box)
    assert not (c.annotation.label_map(0)[bear[0]] == 2).any()  # protected on its keyframe
    with qtbot.waitSignal(c.propagation.finished, timeout=LONG_WAIT_MS):
        window.propagate("forward")
    for index in (1, 2, 3):
        labels = c.annotation.label_map(index)
        assert (labels == 2).any() and not (bear[index] & (labels == 2)).any()


def test_progress_says_rate_and_time_left():
    text = ProgressText("propagating")
    assert text(0, 81, now=100.0) == "propagating 0 / 81"
    assert text(17, 81, now=105.3) == "propagating 17 / 81, 3.2 frames/s, 20 s left"
    assert text(20, 900, now=106.0).endswith("3.3 frames/s, 4 min 24 s left")
