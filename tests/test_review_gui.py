"""Review mode in the real window, offscreen: a model's damaged output opened, compared with the
DAVIS ground truth, worst frames listed first, a click on a row shows that frame, the ground
truth shown beside it, and fixing frames raises their scores; the saved files equal the truth."""

from __future__ import annotations

import numpy as np
from gui_helpers import drag_image, make_lvos_dataset, make_window, open_and_wait, press_key
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QImage
from PyQt6.QtTest import QTest
from review_helpers import DAMAGED, FRAMES, HALVED, SEQUENCE, SHIFTED, counted_iou, damage, truth
from scipy import ndimage

from annotator.formats.masks import read_label_map, write_label_map


def make_predictions(davis_root, target):
    """An LVOS root whose Annotations are a poor model's output for the first FRAMES frames."""
    root = make_lvos_dataset(davis_root, target, SEQUENCE, FRAMES)
    for i in range(FRAMES):
        write_label_map(root / "Annotations" / SEQUENCE / f"{i:05d}.png",
                        damage(truth(davis_root, i), i))
    return root


def rgba_of(image) -> np.ndarray:
    """A QImage's pixels as H x W x 4 RGBA."""
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    pixels = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    return pixels.reshape(image.height(), image.bytesPerLine() // 4, 4)[:, : image.width()]


def click_row(window, index: int) -> None:
    panel = window.review_view.panel
    row = next(r for r in range(panel.table.rowCount()) if panel.frame_at(r) == index)
    item = panel.table.item(row, 1)
    QTest.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier,
                     panel.table.visualItemRect(item).center())


def test_review_worst_frames_first_then_fix_them(qtbot, tmp_path, monkeypatch, davis_root):
    root = make_predictions(davis_root, tmp_path / "predictions")
    window = make_window(qtbot, tmp_path, monkeypatch)
    c, view = window.controller, window.review_view
    review, panel = c.review, view.panel
    open_and_wait(qtbot, window, root)
    assert c.frame_count == FRAMES

    # the dataset root of the ground truth: its Annotations/480p/bear matches by frame name
    assert view.compare(str(davis_root))
    qtbot.waitUntil(lambda: len(review.rows) == FRAMES and not review.busy, timeout=30_000)
    assert view.dock.isVisible()
    assert review.truth.source == davis_root / "Annotations" / "480p" / SEQUENCE
    shown = [panel.frame_at(row) for row in range(panel.table.rowCount())]
    assert sorted(shown) == list(range(FRAMES)) and set(shown[:3]) == DAMAGED
    before = {}
    for index in DAMAGED:
        expected = counted_iou(truth(davis_root, index) == 1,
                               damage(truth(davis_root, index), index) == 1)
        before[index] = review.row(index)
        assert before[index].j[0] == expected
        assert panel.cell_text(index, "J") == f"{expected:.3f}"
    assert panel.cell_text(shown[-1], "J&F") == "1.000"

    # a click on a row shows its frame; the ground truth beside it follows frame and zoom
    click_row(window, SHIFTED)
    assert c.index == SHIFTED
    view.actions["beside"].setChecked(True)
    assert view.truth_box.isVisible() and panel.view_mode.currentData() == "side"
    assert "00005" in view.truth_title.text() and "J&F" in view.truth_title.text()
    alpha = rgba_of(view.truth_canvas.overlay_image())[..., 3]
    assert np.array_equal(alpha > 0, truth(davis_root, SHIFTED) == 1)
    view.actions["difference_view"].setChecked(True)  # the shift: magenta where it is missed
    assert panel.view_mode.currentData() == "difference" and view.truth_legend.isVisible()
    marks = rgba_of(view.truth_canvas.rim_layer_image())
    gt_shifted = truth(davis_root, SHIFTED)
    expected = gt_shifted != c.annotation.label_map(SHIFTED)
    assert expected.sum() > 1000 and np.array_equal(marks[..., 3] > 0, expected)
    magenta = (marks[..., 0] == 255) & (marks[..., 1] == 0) & (marks[..., 3] > 0)
    assert np.array_equal(magenta, expected & (gt_shifted == 1))  # missed; the rest is cyan
    view.actions["beside"].setChecked(True)
    window.canvas.zoom(2.0)
    window.canvas.horizontalScrollBar().setValue(window.canvas.horizontalScrollBar().maximum())
    qtbot.wait(50)  # scroll bars come and go
    assert view.truth_canvas.transform().m11() == window.canvas.transform().m11() > 0.7
    main = window.canvas.mapToScene(window.canvas.viewport().rect().center())
    beside = view.truth_canvas.mapToScene(view.truth_canvas.viewport().rect().center())
    assert main.x() > 600 and abs(main.x() - beside.x()) < 2  # panned to the right, both
    assert abs(main.y() - beside.y()) < 12  # Qt centres a frame shorter than its view
    window.canvas.fit()

    # the next worst frame in review order, then a brush stroke in the missing half
    halved = HALVED[0]
    c.set_index(shown[0])
    while c.index != halved:
        review.next_in_order(1)
    gt = truth(davis_root, halved) == 1
    missing = gt & (c.annotation.label_map(halved) != 1)
    depth = ndimage.distance_transform_edt(missing)
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    press_key(window, Qt.Key.Key_B)
    window.brush_size.setValue(int(min(depth.max(), 40)))
    drag_image(window, [(x - 3, y), (x + 3, y)])
    now = c.annotation.label_map(halved) == 1
    added = now & ~(damage(truth(davis_root, halved), halved) == 1)
    assert added.sum() > 500 and not (added & ~gt).any()  # the stroke stayed inside the truth
    qtbot.waitUntil(lambda: review.row(halved).j[0] > before[halved].j[0])
    row = review.row(halved)  # one frame: rescored on the GUI thread
    assert row.j[0] == counted_iou(gt, now)
    assert panel.cell_text(halved, "J") == f"{row.j[0]:.3f}"

    # the person puts the true masks on the damaged frames: one frame, then two at once
    c.annotation.set_label_map(halved, truth(davis_root, halved))
    qtbot.waitUntil(lambda: review.row(halved).mean_jf == 1.0)
    assert panel.cell_text(halved, "J&F") == "1.000"
    with c.annotation.transaction("fix two frames"):
        for index in DAMAGED - {halved}:
            c.annotation.set_label_map(index, truth(davis_root, index))
    qtbot.waitUntil(lambda: all(review.row(i).mean_jf == 1.0 for i in DAMAGED), timeout=20_000)
    qtbot.waitUntil(lambda: all(panel.cell_text(i, "J&F") == "1.000" for i in DAMAGED))
    assert shown[0] in DAMAGED and panel.frame_at(0) == shown[0]  # rows keep their place
    review.sort()  # every frame at 1.0 now: ties in frame order
    assert [panel.frame_at(row) for row in range(FRAMES)] == list(range(FRAMES))
    assert review.mean_jf == 1.0

    # undo brings the damage back on two frames (the worker rescored them)
    press_key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: all(review.row(i).mean_jf < 0.9 for i in DAMAGED - {halved}),
                    timeout=20_000)
    press_key(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: review.mean_jf == 1.0, timeout=20_000)

    # saved files read back equal to the ground truth on every frame
    c.autosaver.save_now()
    assert c.autosaver.wait_idle()
    for i in range(FRAMES):
        saved = read_label_map(root / "Annotations" / SEQUENCE / f"{i:05d}.png", (480, 854))
        assert np.array_equal(saved, truth(davis_root, i)), i
    assert window.last_error == ""


def test_wrong_folders_and_the_next_video(qtbot, tmp_path, monkeypatch, davis_root):
    """A folder without the video's ground truth, or its own masks, is refused with the reason;
    a dataset root chosen once serves the next video opened too; a folder of one video's PNGs
    does not (the next video's frames are named alike: it was scored against the other
    video's truth, "mean J&F 0.000 over 12 frames")."""
    root = make_predictions(davis_root, tmp_path / "predictions")
    make_lvos_dataset(davis_root, tmp_path / "other", "boat", FRAMES)
    (root / "JPEGImages" / "boat").symlink_to(tmp_path / "other" / "JPEGImages" / "boat")
    window = make_window(qtbot, tmp_path, monkeypatch)
    c, view = window.controller, window.review_view
    c.open(root, video=SEQUENCE)
    qtbot.waitUntil(lambda: c.annotation is not None, timeout=30_000)
    assert not view.compare(str(root))  # the video's own masks are no ground truth
    assert "own annotation folder" in window.last_error
    assert window.last_error.startswith(f"{root / 'Annotations' / SEQUENCE}: ")  # named
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not view.compare(str(empty))
    assert "no masks for video 'bear'" in window.last_error
    assert str(empty) in window.last_error
    assert not c.review.active and not view.dock.isVisible()

    assert view.compare(str(davis_root))
    qtbot.waitUntil(lambda: len(c.review.rows) == FRAMES, timeout=30_000)
    c.open_video(c.dataset, "boat")  # not annotated: the boat is missed on every frame
    qtbot.waitUntil(lambda: c.video == "boat" and len(c.review.rows) == FRAMES
                    and not c.review.busy, timeout=30_000)
    assert c.review.truth.source == davis_root / "Annotations" / "480p" / "boat"
    assert all(row.j == (0.0,) for row in c.review.rows.values())
    assert view.panel.table.rowCount() == FRAMES

    c.open_video(c.dataset, SEQUENCE)  # the bear's own truth folder, chosen for the bear
    qtbot.waitUntil(lambda: c.video == SEQUENCE and c.review.active, timeout=30_000)
    assert view.compare(str(davis_root / "Annotations" / "480p" / SEQUENCE))
    qtbot.waitUntil(lambda: len(c.review.rows) == FRAMES and not c.review.busy,
                    timeout=30_000)
    view.actions["differences"].setChecked(True)
    assert window.canvas.marks_layer_image() is not None
    c.open_video(c.dataset, "boat")
    qtbot.waitUntil(lambda: c.video == "boat" and c.review.checks.complete, timeout=30_000)
    assert not c.review.active and c.review.rows == {}
    assert "No ground truth" in view.panel.summary.text()
    # the differences box is off and disabled with no truth to differ from, and shows nothing
    assert not view.actions["differences"].isChecked()
    assert not view.panel.differences.isChecked() and not view.panel.differences.isEnabled()
    assert window.canvas.marks_layer_image() is None
    assert view.panel.view_mode.currentData() == "overlay" and not view.truth_box.isVisible()


def test_next_worst_walks_the_order_from_the_top_wherever_the_person_went(
        qtbot, tmp_path, monkeypatch, davis_root):
    root = make_predictions(davis_root, tmp_path / "predictions")
    window = make_window(qtbot, tmp_path, monkeypatch)
    c, view = window.controller, window.review_view
    open_and_wait(qtbot, window, root)
    assert view.compare(str(davis_root))
    qtbot.waitUntil(lambda: len(c.review.rows) == FRAMES and not c.review.busy, timeout=30_000)
    order = list(c.review.order)
    assert order[0] in DAMAGED and order[0] != 0 and c.index == 0
    # from frame 0, which is not among the worst: the first step goes to the worst frame
    view.actions["next_worst"].trigger()
    assert c.index == order[0]
    view.actions["next_worst"].trigger()
    assert c.index == order[1]
    # the person steps away with the arrow keys: the walk goes on where it was
    press_key(window, Qt.Key.Key_Right)
    press_key(window, Qt.Key.Key_Right)
    assert c.index not in order[:3]
    view.actions["next_worst"].trigger()
    assert c.index == order[2]
    view.actions["previous_worst"].trigger()
    assert c.index == order[1]
    # a row chosen in the frames list: the walk goes on from that row
    click_row(window, order[5])
    assert c.index == order[5]
    view.actions["next_worst"].trigger()
    assert c.index == order[6]
