"""Killing the app loses at most the last stroke: the next start offers to recover the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
from gui_helpers import CHILD_WINDOW, make_lvos_dataset, make_window, open_and_wait
from PyQt6.QtWidgets import QMessageBox

from annotator.annotation import FrameState
from annotator.formats.masks import read_label_map

# The app in a child process: open the video, make two strokes, say so, then wait to be killed.
CHILD = CHILD_WINDOW + textwrap.dedent("""
    import numpy as np
    c.autosaver.schedule = lambda delay_ms: None  # the kill comes before any save
    c.open(sys.argv[1])
    while c.annotation is None:
        app.processEvents()
    for index, (y0, y1) in ((0, (100, 160)), (2, (200, 240))):
        c.set_index(index)
        stroke = np.zeros((480, 854), bool)
        stroke[y0:y1, 300:420] = True
        c.paint(stroke)
    print("painted", flush=True)
    app.exec()
""")


def test_killed_app_offers_recovery(qtbot, tmp_path, monkeypatch, davis_root):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 5)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "VOS_ANNOTATOR_WEIGHTS": str(tmp_path / "weights")}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), str(tmp_path / "child.ini")],
        stdout=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert child.stdout.readline().strip() == "painted"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert not (root / "Annotations" / "bear").exists()  # nothing was saved
    assert (root / ".annotator" / "bear.journal").stat().st_size > 0

    offered: list[str] = []

    def answer(parent, title, text, *args):
        offered.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, root)
    qtbot.waitUntil(lambda: bool(offered))
    assert "Recover" in offered[0] or "recover" in offered[0]
    qtbot.waitUntil(lambda: not c.autosaver.recovering, timeout=30_000)  # in the worker
    expected = {0: (100, 160), 2: (200, 240)}
    for index, (y0, y1) in expected.items():
        labels = c.annotation.label_map(index)
        assert (labels[y0:y1, 300:420] == 1).all() and (labels == 1).sum() == (y1 - y0) * 120
        assert c.annotation.state(index, 1) == FrameState.KEYFRAME
    assert c.autosaver.wait_idle()
    for index in expected:
        saved = read_label_map(root / "Annotations" / "bear" / f"{index:05d}.png", (480, 854))
        assert np.array_equal(saved, c.annotation.label_map(index))
    assert not (root / ".annotator" / "bear.journal").exists()

    # the recovered strokes are one step a person can undo (back to the video as saved
    # before the crash: nothing) and redo
    assert window.actions["undo"].text() == "Undo recover unsaved work"
    c.undo()
    qtbot.waitUntil(lambda: not c.busy, timeout=30_000)
    assert all(not c.annotation.label_map(i).any() for i in expected)
    assert 1 not in c.annotation.objects
    c.redo()
    qtbot.waitUntil(lambda: not c.busy, timeout=30_000)
    assert all((c.annotation.label_map(i) == 1).sum() == (y1 - y0) * 120
               for i, (y0, y1) in expected.items())
