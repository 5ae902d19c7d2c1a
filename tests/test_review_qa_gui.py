"""Review in the real window, offscreen, as a reviewer works: a model's damaged output opened
next to the frames (in its review copy), the damaged frames flagged without ground truth, then
scored with it; differences on the canvas per object; a click on the plot shows a frame; marks
with a comment, counted and filtered; fix here, re-propagate, the scores and plot follow; the
report and its video written from the GUI; and the marks there again after a restart."""

from __future__ import annotations

import csv

import av
import numpy as np
from gui_helpers import make_lvos_dataset, make_window, open_and_wait, press_key
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtTest import QTest
from review_helpers import DAMAGED, FRAMES, HALVED, SEQUENCE, SHIFTED, damage, truth
from test_review_gui import rgba_of

from annotator.annotation.marks import QAMark, Verdict
from annotator.engine.review_copy import copy_folder
from annotator.formats.masks import read_label_map, write_label_map
from annotator.quality.differences import difference_codes

ALT = Qt.KeyboardModifier.AltModifier


def wait_checked(qtbot, controller) -> None:
    qtbot.waitUntil(lambda: controller.review.checks.complete and not controller.review.busy,
                    timeout=60_000)


def test_review_a_prediction_mark_fix_report_and_restart(qtbot, tmp_path, monkeypatch,
                                                        davis_root):
    frames = make_lvos_dataset(davis_root, tmp_path / "frames", SEQUENCE, FRAMES)
    prediction = tmp_path / "model" / SEQUENCE
    for i in range(FRAMES):
        write_label_map(prediction / f"{i:05d}.png", damage(truth(davis_root, i), i))
    window = make_window(qtbot, tmp_path, monkeypatch)
    c, view = window.controller, window.review_view
    review, panel = c.review, view.panel
    open_and_wait(qtbot, window, frames)

    # the prediction opens in its review copy, beside it: the frames linked, the masks copied
    assert view.open_prediction(str(prediction))
    copy = copy_folder(prediction)
    qtbot.waitUntil(lambda: c.opened is not None and str(copy) in c.opened.path, timeout=60_000)
    assert (copy / "JPEGImages" / SEQUENCE).resolve() == (frames / "JPEGImages" / SEQUENCE)
    assert c.annotation.objects.keys() == {1}
    for i in (0, SHIFTED):
        assert np.array_equal(c.annotation.label_map(i), damage(truth(davis_root, i), i))
    assert sorted(p.name for p in prediction.iterdir())[0] == "00000.png"  # left as it was

    # without ground truth the checks flag exactly the damaged frames, and they come first
    wait_checked(qtbot, c)
    signals = review.checks.signals
    assert {i for i, s in signals.items() if s.flags} == DAMAGED
    assert {f.kind.value for i in HALVED for f in signals[i].flags} == {"area change"}
    assert [f.kind.value for f in signals[SHIFTED].flags] == ["jump"]
    assert set(review.order[:3]) == DAMAGED
    assert {panel.frame_at(row) for row in range(3)} == DAMAGED
    assert panel.tabs.tabText(1) == "Flags (3)"
    assert "3 flags on 3 frames" in panel.summary.text()
    assert not panel.differences.isEnabled()  # nothing to differ from yet

    # with ground truth: scored, worst first; differences of one object on the canvas itself
    assert view.compare(str(davis_root))
    qtbot.waitUntil(lambda: len(review.rows) == FRAMES and not review.busy, timeout=60_000)
    assert set(review.order[:3]) == DAMAGED and float(panel.cell_text(SHIFTED, "J&F")) < 0.7
    c.set_index(SHIFTED)
    panel.object.setCurrentIndex(panel.object.findData(1))
    panel.differences.setChecked(True)  # with nothing beside the canvas
    assert not view.truth_box.isVisible() and panel.legend.isVisible()
    marks = rgba_of(window.canvas.marks_layer_image())
    expected = difference_codes(c.annotation.label_map(SHIFTED), truth(davis_root, SHIFTED), 1)
    assert (expected != 0).sum() > 1000
    assert np.array_equal(marks[..., 3] > 0, expected != 0)

    # a click on the plot shows that frame
    plot = panel.plot
    QTest.mouseClick(plot, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(round(plot.x_of(HALVED[0])), plot.height() // 2))
    assert c.index == HALVED[0]

    # marks: needs fix with a comment, accepted, counted, filtered, stepped through
    c.set_index(SHIFTED)
    press_key(window, Qt.Key.Key_X, ALT)
    panel.marks.comment.setFocus()
    QTest.keyClicks(panel.marks.comment, "bear shifted right")
    QTest.keyClick(panel.marks.comment, Qt.Key.Key_Return)
    c.set_index(0)
    press_key(window, Qt.Key.Key_A, ALT)
    assert c.annotation.marks == {SHIFTED: QAMark(Verdict.NEEDS_FIX, "bear shifted right"),
                                  0: QAMark(Verdict.ACCEPTED)}
    assert panel.marks.counts.text() == f"1 accepted · 1 need a fix · {FRAMES - 2} unreviewed"
    assert view.actions["mark_accepted"].isChecked()
    panel.filter.setCurrentIndex(panel.filter.findData("needs_fix"))
    assert panel.table.rowCount() == 1 and panel.frame_at(0) == SHIFTED
    assert panel.cell_text(SHIFTED, "Mark") == "needs fix"
    panel.filter.setCurrentIndex(panel.filter.findData("all"))
    press_key(window, Qt.Key.Key_N, ALT)  # next needs fix
    assert c.index == SHIFTED and not view.actions["mark_accepted"].isChecked()
    press_key(window, Qt.Key.Key_U, ALT)  # next unreviewed, worst first
    later = review.order[review.order.index(SHIFTED) + 1:] + review.order
    assert c.index == next(i for i in later if i not in (0, SHIFTED))

    # fix here: the object chosen, the brush ready; the person corrects the frame, the score,
    # the flags and the plot follow; then re-propagates from it
    c.set_index(SHIFTED)
    press_key(window, Qt.Key.Key_C, ALT)
    assert c.current_object == 1 and window.canvas.tool is window.tools["brush"]
    gt = truth(davis_root, SHIFTED) == 1
    c.erase(c.annotation.label_map(SHIFTED) == 1)  # what the person does with the tools
    c.paint(gt)
    qtbot.waitUntil(lambda: review.row(SHIFTED).mean_jf == 1.0 and not review.checks.busy,
                    timeout=30_000)
    assert panel.cell_text(SHIFTED, "J&F") == "1.000"
    assert view.series.jf[1][SHIFTED] == 1.0 and not review.checks.signals[SHIFTED].flags
    before = review.row(HALVED[1]).j[0]
    view.actions["repropagate"].trigger()
    qtbot.waitUntil(lambda: not c.propagation.running, timeout=120_000)
    wait_checked(qtbot, c)
    qtbot.waitUntil(lambda: review.row(HALVED[1]).j[0] > before, timeout=30_000)
    assert review.row(HALVED[1]).j[0] > 0.7  # the propagated bear is whole again
    assert view.series.jf[1][HALVED[1]] == review.row(HALVED[1]).jf[0]

    # the report from the GUI: the marks in it, its video read back
    report = tmp_path / "report"
    assert view.write_report(report)
    qtbot.waitUntil(lambda: not view.tasks.busy, timeout=120_000)
    assert window.last_error == ""
    with (report / "frames.csv").open(encoding="utf-8") as handle:
        rows = {int(r["index"]): r for r in csv.DictReader(handle)}
    assert (rows[SHIFTED]["mark"], rows[SHIFTED]["comment"]) == ("needs fix",
                                                                 "bear shifted right")
    assert rows[SHIFTED]["J&F"] == "1.000" and rows[0]["mark"] == "accepted"
    with av.open(str(report / f"{SEQUENCE}-overlay.mp4")) as container:
        stream = container.streams.video[0]
        assert sum(1 for _ in container.decode(stream)) == FRAMES
        assert (stream.codec_context.width, stream.codec_context.height) == (854, 480)

    # after a restart: the same prediction opened again reopens its copy as it was left
    c.autosaver.save_now()
    assert c.autosaver.wait_idle()
    fixed = read_label_map(copy / "Annotations" / SEQUENCE / f"{SHIFTED:05d}.png")
    assert np.array_equal(fixed == 1, gt)
    window.close()
    (tmp_path / "again").mkdir()
    window = make_window(qtbot, tmp_path / "again", monkeypatch)
    c, view = window.controller, window.review_view
    open_and_wait(qtbot, window, frames)
    assert view.open_prediction(str(prediction))
    qtbot.waitUntil(lambda: c.opened is not None and str(copy) in c.opened.path, timeout=60_000)
    assert c.annotation.marks == {SHIFTED: QAMark(Verdict.NEEDS_FIX, "bear shifted right"),
                                  0: QAMark(Verdict.ACCEPTED)}
    assert view.panel.marks.counts.text() == \
        f"1 accepted · 1 need a fix · {FRAMES - 2} unreviewed"
    assert np.array_equal(c.annotation.label_map(SHIFTED) == 1, gt)  # the fix too
    wait_checked(qtbot, c)
    view.panel.filter.setCurrentIndex(view.panel.filter.findData("needs_fix"))
    assert view.panel.table.rowCount() == 1 and view.panel.frame_at(0) == SHIFTED


def test_the_videos_own_masks_become_the_ground_truth(qtbot, tmp_path, monkeypatch,
                                                       davis_root):
    """Frames that come with their own masks: a prediction opened next to them is compared
    with those masks (the prediction's copy is what gets edited, never them)."""
    root = make_lvos_dataset(davis_root, tmp_path / "data", SEQUENCE, FRAMES)
    for i in range(FRAMES):
        write_label_map(root / "Annotations" / SEQUENCE / f"{i:05d}.png", truth(davis_root, i))
        write_label_map(tmp_path / "pred" / SEQUENCE / f"{i:05d}.png",
                        damage(truth(davis_root, i), i))
    window = make_window(qtbot, tmp_path, monkeypatch)
    c, view = window.controller, window.review_view
    open_and_wait(qtbot, window, root)
    assert view.open_prediction(str(tmp_path / "pred" / SEQUENCE))
    qtbot.waitUntil(lambda: c.review.active and len(c.review.rows) == FRAMES
                    and not c.review.busy, timeout=60_000)
    assert c.review.truth.source == root / "Annotations" / SEQUENCE
    assert set(c.review.order[:3]) == DAMAGED
    assert c.opened.project.dataset.root == copy_folder(tmp_path / "pred" / SEQUENCE)
