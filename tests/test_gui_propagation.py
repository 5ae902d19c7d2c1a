"""Propagation from the window: only the selected objects, cancelling a pass, and the keyframes
read in the worker."""

from __future__ import annotations

import threading

import numpy as np
from gui_helpers import LONG_WAIT_MS, make_lvos_dataset, make_window, open_and_wait

from annotator.annotation import FrameState


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
        window.cancel_button.click()
    assert finished.args == [True]
    states = [c.annotation.state(i, 1) for i in range(1, 25)]
    reached = states.count(FrameState.PROPAGATED)
    assert 1 <= reached < 24 and states[:reached] == [FrameState.PROPAGATED] * reached
    assert not window.progress.isVisible()
    c.undo()  # the cancelled pass is one undo step
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
