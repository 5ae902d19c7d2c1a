"""Editing through the window: polygon, brush, fill holes, eraser, clear, box, objects (add,
merge, recolour, category, caption, hide, delete), all undoable and saved."""

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
    view_point,
)
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtGui import QColor, QWheelEvent
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication, QColorDialog, QMessageBox

from annotator.annotation import FrameState
from annotator.annotation.journal import journal_path
from annotator.annotation.journal_records import read_journal


def answer_questions(monkeypatch, answers: list[bool]) -> None:
    """QMessageBox.question answers Yes or No, in this order."""
    replies = iter(answers)
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: (
        QMessageBox.StandardButton.Yes if next(replies) else QMessageBox.StandardButton.No))


def overlay_colour(window, x: int, y: int) -> tuple[int, int, int, int]:
    """RGBA of the mask overlay at image pixel (x, y), as drawn over the frame."""
    image = window.canvas.overlay_image()
    return image.pixelColor(x, y).getRgb()


def ring(center: tuple[int, int], outer: int, inner: int) -> np.ndarray:
    yy, xx = np.mgrid[:480, :854]
    distance = np.hypot(yy - center[1], xx - center[0])
    return (distance <= outer) & (distance > inner)


def test_tools_and_objects(qtbot, tmp_path, monkeypatch, davis_root):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 3)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, root)
    assert c.annotation.objects == {}

    # a box around the bear, dragged with the click tool, gives a candidate that fits it
    truth = ground_truth(davis_root, "bear", 0)
    ys, xs = np.nonzero(truth)
    drag_image(window, [(xs.min(), ys.min()), ((xs.min() + xs.max()) / 2, ys.max() / 2),
                        (xs.max(), ys.max())])
    qtbot.waitUntil(lambda: c.clicker.mask() is not None, timeout=LONG_WAIT_MS)
    assert iou(c.clicker.mask(), truth) >= 0.75
    press_key(window, Qt.Key.Key_Escape)  # discarded: nothing lands in the annotation
    assert c.clicker.mask() is None and not c.annotation.label_map(0).any()
    assert list(c.annotation.objects) == [1]  # the first prompt made an object for it

    # a second object, drawn as a polygon
    press_key(window, Qt.Key.Key_N)
    assert list(c.annotation.objects) == [1, 2] and c.current_object == 2
    press_key(window, Qt.Key.Key_G)
    for x, y in ((600, 300), (700, 300), (700, 380), (600, 380)):
        click_image(window, x, y)
    press_key(window, Qt.Key.Key_Return)
    labels = c.annotation.label_map(0)
    assert (labels[305:375, 605:695] == 2).all()
    assert abs(int((labels == 2).sum()) - 101 * 81) <= 400
    assert c.annotation.state(0, 2) == FrameState.KEYFRAME

    # object 1: a ring, its hole filled, then erased along a stroke
    press_key(window, Qt.Key.Key_1)
    assert c.current_object == 1
    c.paint(ring((200, 200), 60, 30))
    press_key(window, Qt.Key.Key_H)
    disc = ring((200, 200), 60, -1)
    assert np.array_equal(c.annotation.label_map(0) == 1, disc)
    press_key(window, Qt.Key.Key_E)
    window.brush_size.setValue(11)
    drag_image(window, [(120, 200), (200, 200), (280, 200)])
    after = c.annotation.label_map(0)
    assert (after[195:206, 150:251] == 0).all()
    assert 0.8 * disc.sum() < (after == 1).sum() < 0.95 * disc.sum()
    assert (after == 2).sum() == (labels == 2).sum()  # the eraser left object 2 alone

    # clear object 1 on this frame, and undo that
    press_key(window, Qt.Key.Key_Delete)
    assert not (c.annotation.label_map(0) == 1).any()
    press_key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(c.annotation.label_map(0), after)

    # category, caption and colour from the object panel
    panel = window.objects
    panel.category.setEditText("bear")
    panel.category.lineEdit().editingFinished.emit()
    panel.caption.setText("a brown bear walking")
    panel.caption.editingFinished.emit()
    monkeypatch.setattr(QColorDialog, "getColor", lambda *args: QColor(10, 200, 30))
    panel.recolour_button.click()
    info = c.annotation.object(1)
    assert (info.category, info.caption, info.colour) == ("bear", "a brown bear walking",
                                                         (10, 200, 30))
    qtbot.waitUntil(lambda: np.abs(np.subtract(overlay_colour(window, 200, 150),
                                               (10, 200, 30, 128))).max() <= 2)

    # hide object 1: the overlay is clear where it is
    item = panel.tree.topLevelItem(0)
    item.setCheckState(0, Qt.CheckState.Unchecked)
    assert c.hidden == {1}
    qtbot.waitUntil(lambda: overlay_colour(window, 200, 150)[3] == 0)
    item.setCheckState(0, Qt.CheckState.Checked)

    # merge 2 into 1 (asked first), delete asks and only a Yes deletes
    answer_questions(monkeypatch, [True, False, True])
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
    panel.tree.topLevelItem(1).setSelected(True)
    assert panel.selected_ids() == [1, 2] and panel.merge_button.isEnabled()
    panel.merge_button.click()
    merged = c.annotation.label_map(0)
    assert list(c.annotation.objects) == [1]
    assert np.array_equal(merged == 1, (after == 1) | (after == 2))
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
    panel.delete_button.click()
    assert list(c.annotation.objects) == [1]
    panel.delete_button.click()
    assert c.annotation.objects == {} and not c.annotation.label_map(0).any()
    press_key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(c.annotation.label_map(0), merged)

    # saved: the mask, the category in the meta, the caption in the expression meta
    assert c.autosaver.wait_idle()
    meta = json.loads((root / "train_meta.json").read_text())
    assert meta["videos"]["bear"]["objects"]["1"]["category"] == "bear"
    expressions = json.loads((root / "train_expression_meta.json").read_text())
    assert expressions["videos"]["bear"]["expressions"]["0"] == {
        "exp": "a brown bear walking", "obj_id": "1"}


def test_zoom_at_the_cursor_pan_and_fit(qtbot, tmp_path, monkeypatch, davis_root):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 3)
    window = make_window(qtbot, tmp_path, monkeypatch)
    open_and_wait(qtbot, window, root)
    canvas, viewport = window.canvas, window.canvas.viewport()
    fitted = canvas.transform().m11()
    assert min(abs(fitted * 854 - viewport.width()), abs(fitted * 480 - viewport.height())) < 8

    canvas.zoom(1.6)  # the frame now overflows the view both ways: the view can scroll
    under = view_point(window, 600, 300)
    before = canvas.mapToScene(under)
    for _ in range(3):  # three wheel steps up at the cursor
        wheel = QWheelEvent(QPointF(under), QPointF(viewport.mapToGlobal(under)), QPoint(),
                            QPoint(0, 120), Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(viewport, wheel)
    assert abs(canvas.transform().m11() - fitted * 1.6 * 1.25**3) < 1e-6
    still = canvas.mapToScene(under)  # the point under the cursor stayed under it
    assert abs(still.x() - before.x()) <= 1 and abs(still.y() - before.y()) <= 1

    start = QPoint(300, 300)
    QTest.mousePress(viewport, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier,
                     start)
    QTest.mouseMove(viewport, start + QPoint(80, 40))
    QTest.mouseRelease(viewport, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier,
                       start + QPoint(80, 40))
    panned = canvas.mapToScene(under)
    scale = canvas.transform().m11()
    assert abs((still.x() - panned.x()) * scale - 80) <= 3
    assert abs((still.y() - panned.y()) * scale - 40) <= 3

    press_key(window, Qt.Key.Key_0)
    assert abs(canvas.transform().m11() - fitted) < 1e-6


def test_return_commits_a_caption_and_it_is_journalled(qtbot, tmp_path, monkeypatch, davis_root):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 2)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    c.autosaver.schedule = lambda delay_ms: None  # nothing saved: the journal holds it all
    open_and_wait(qtbot, window, root)
    c.paint(ring((200, 200), 40, -1))
    click_image(window, 600, 300)  # a candidate waits: Return in the caption must not take it
    qtbot.waitUntil(lambda: c.clicker.mask() is not None, timeout=LONG_WAIT_MS)
    before = c.annotation.label_map(0)

    caption = window.objects.caption
    caption.setFocus()
    QTest.keyClicks(caption, "a brown bear")
    QTest.keyClick(caption, Qt.Key.Key_Return)
    assert c.annotation.object(1).caption == "a brown bear"
    assert np.array_equal(c.annotation.label_map(0), before) and c.clicker.mask() is not None
    assert window.canvas.hasFocus()  # the keys are the canvas's again
    assert journalled_caption(root) == "a brown bear"

    # typing without Return is kept after a pause; the whole typing is one undo step
    caption.setFocus()
    QTest.keyClicks(caption, " walking")
    qtbot.waitUntil(lambda: c.annotation.object(1).caption == "a brown bear walking",
                    timeout=5_000)
    assert caption.text() == "a brown bear walking" and caption.hasFocus()
    assert journalled_caption(root) == "a brown bear walking"
    assert window.actions["undo"].text() == "Undo caption of object 1"
    c.undo()
    assert c.annotation.object(1).caption == "a brown bear"


def journalled_caption(root) -> str:
    """Object 1's caption in the latest state record of the recovery journal."""
    records, _ = read_journal(journal_path(root, "bear"))
    state = json.loads([r for r in records if r.kind == "state"][-1].payload)
    return next(o["caption"] for o in state["objects"] if o["id"] == 1)


def test_outlines_in_each_objects_colour_thick_enough(qtbot, tmp_path, monkeypatch, davis_root):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 1)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, root)
    left, right = np.zeros((480, 854), bool), np.zeros((480, 854), bool)
    left[100:300, 100:300] = True
    right[100:300, 300:500] = True
    c.paint(left)
    c.add_object()
    c.paint(right)
    window.outline_box.setChecked(True)
    colours = {1: c.object_colour(1), 2: c.object_colour(2)}
    assert colours[1] != colours[2]
    image = window.canvas.overlay_image()

    def rgba(x: int, y: int) -> tuple[int, ...]:
        return image.pixelColor(x, y).getRgb()

    for x in (100, 101, 102):  # three pixels in from the left edge: object 1's colour
        assert rgba(x, 200) == (*colours[1], 255)
    assert rgba(200, 200)[3] == 0 and rgba(99, 200)[3] == 0  # inside and outside: clear
    for x in (297, 298, 299):  # where they meet, each object keeps its side, in its colour
        assert rgba(x, 200) == (*colours[1], 255)
    for x in (300, 301, 302):
        assert rgba(x, 200) == (*colours[2], 255)
    assert window.canvas.rim_layer_image() is None  # no white rim over the outlines


def test_undo_and_redo_say_what_they_do(qtbot, tmp_path, monkeypatch, davis_root):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 3)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, root)
    assert window.actions["undo"].text() == "Undo" and not window.actions["undo"].isEnabled()
    c.set_index(1)
    press_key(window, Qt.Key.Key_B)
    drag_image(window, [(100, 100), (200, 120)])
    assert window.actions["undo"].text() == "Undo brush stroke (object 1, frame 2)"
    press_key(window, Qt.Key.Key_E)
    drag_image(window, [(150, 100), (150, 130)])
    assert window.actions["undo"].text() == "Undo eraser stroke (object 1, frame 2)"
    press_key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.actions["undo"].text() == "Undo brush stroke (object 1, frame 2)"
    assert window.actions["redo"].text() == "Redo eraser stroke (object 1, frame 2)"
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert "Undo brush stroke (object 1, frame 2)" in [a.text() for a in edit_menu.actions()]
