"""Clicking as a person does: a click in flight says so (busy cursor, "Segmenting…"), nothing
moves under the mouse while it computes or when its answer or a long message arrives, the box
stays drawn with its candidates, and other objects' pixels are protected unless asked."""

from __future__ import annotations

import numpy as np
from gui_helpers import (
    LONG_WAIT_MS,
    click_image,
    drag_image,
    ground_truth,
    make_lvos_dataset,
    make_window,
    open_and_wait,
    press_key,
)
from PyQt6.QtCore import QRect, Qt

from annotator.gui.main_window import SEGMENTING


def canvas_place(window) -> QRect:
    """Where the canvas is in the window (what a second click aims at)."""
    canvas = window.canvas
    return QRect(canvas.mapTo(window, canvas.rect().topLeft()), canvas.size())


def test_a_click_in_flight_shows_it_and_nothing_moves(qtbot, tmp_path, monkeypatch, davis_root):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 2)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, root)
    qtbot.waitUntil(lambda: "loading" not in c.clicker.description, timeout=LONG_WAIT_MS)
    place, viewport = canvas_place(window), window.canvas.viewport()
    assert viewport.cursor().shape() != Qt.CursorShape.BusyCursor

    truth = ground_truth(davis_root, "bear", 0)
    ys, xs = np.nonzero(truth)
    click_image(window, int(np.median(xs)), int(np.median(ys)))
    # the answer cannot have come yet: it arrives through this thread's event loop
    assert c.clicker.busy and window.controls.candidate_label.text() == SEGMENTING
    assert viewport.cursor().shape() == Qt.CursorShape.BusyCursor
    assert canvas_place(window) == place
    qtbot.waitUntil(lambda: c.clicker.mask() is not None and not c.clicker.busy,
                    timeout=LONG_WAIT_MS)
    assert window.controls.candidate_label.text().startswith("Candidate ")
    assert viewport.cursor().shape() != Qt.CursorShape.BusyCursor
    qtbot.wait(50)  # let any relayout happen
    assert canvas_place(window) == place

    long_text = "a message that goes on " * 30
    c.message.emit(long_text)
    qtbot.wait(50)
    assert canvas_place(window) == place and window.width() == 1200
    label = window.message_label
    assert label.elided() and label.toolTip() == long_text
    assert label.shown_text().endswith("…") and len(label.shown_text()) < len(long_text)

    for _ in range(3):  # new objects get timeline rows, kept ready: the canvas stays put
        c.add_object()
    qtbot.waitUntil(lambda: len(window.timeline.rows) == 4)
    qtbot.wait(50)
    assert canvas_place(window) == place


def test_the_box_stays_drawn_with_its_candidates(qtbot, tmp_path, monkeypatch, davis_root):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 2)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, root)
    truth = ground_truth(davis_root, "bear", 0)
    ys, xs = np.nonzero(truth)
    drag_image(window, [(xs.min(), ys.min()), (xs.max(), ys.max())])
    assert window.canvas.prompt_box() is not None  # drawn while it computes
    qtbot.waitUntil(lambda: c.clicker.mask() is not None, timeout=LONG_WAIT_MS)
    box = window.canvas.prompt_box()
    assert box is not None
    assert abs(box.left() - xs.min()) <= 2 and abs(box.right() - xs.max()) <= 2
    assert abs(box.top() - ys.min()) <= 2 and abs(box.bottom() - ys.max()) <= 2
    click_image(window, int(np.median(xs)), int(np.median(ys)))  # a refining click keeps it
    qtbot.waitUntil(lambda: not c.clicker.busy, timeout=LONG_WAIT_MS)
    assert window.canvas.prompt_box() == box
    press_key(window, Qt.Key.Key_Escape)
    assert window.canvas.prompt_box() is None


def test_other_objects_are_protected_unless_asked(qtbot, tmp_path, monkeypatch, davis_root):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 2, first_mask=True)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, root)
    assert window.controls.protect.isVisible() and window.controls.protect.isChecked()
    bear = c.annotation.label_map(0) == 1
    assert bear.any()

    # a new object's box around the bear: its candidate and what accepting it sets leave the
    # bear alone
    press_key(window, Qt.Key.Key_N)
    assert c.current_object == 2
    ys, xs = np.nonzero(bear)
    drag_image(window, [(xs.min() - 20, ys.min() - 20), (xs.max() + 20, ys.max() + 20)])
    qtbot.waitUntil(lambda: c.clicker.mask() is not None, timeout=LONG_WAIT_MS)
    raw, shown = c.clicker.mask(), c.candidate()
    assert (raw & bear).any() and not (shown & bear).any()
    press_key(window, Qt.Key.Key_Return)
    labels = c.annotation.label_map(0)
    assert np.array_equal(labels == 1, bear) and (labels == 2).sum() == (raw & ~bear).sum()

    # a brush stroke across the bear paints only around it
    press_key(window, Qt.Key.Key_B)
    window.brush_size.setValue(21)
    row = int(np.median(ys))
    drag_image(window, [(5, row), (850, row)])
    after = c.annotation.label_map(0)
    assert np.array_equal(after == 1, bear) and (after[row - 5 : row + 5] == 2).any()

    # asked for: Shift+P turns protection off and the same stroke takes the bear's pixels
    press_key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    press_key(window, Qt.Key.Key_P, Qt.KeyboardModifier.ShiftModifier)
    assert not window.controls.protect.isChecked() and not c.prefs.protect
    drag_image(window, [(5, row), (850, row)])
    taken = c.annotation.label_map(0)
    assert (bear & (taken == 2)).sum() > 0.05 * bear.sum()
