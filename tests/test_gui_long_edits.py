"""Edits that touch many frames leave the GUI thread free: deleting and merging objects and
undoing or redoing them are computed in a worker and committed in slices, with progress; edits
wait meanwhile, and the result is exact."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from gui_helpers import make_window, open_and_wait
from PIL import Image

from annotator.formats.masks import write_label_map
from annotator.gui.edit_jobs import SMALL_FRAMES

FRAMES = 60


def make_long_video(root: Path) -> Path:
    """An LVOS root with FRAMES small frames: object 1 on every frame, object 2 on every
    other one."""
    images, masks = root / "JPEGImages" / "clip", root / "Annotations" / "clip"
    images.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for index in range(FRAMES):
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), np.uint8)).save(
            images / f"{index:05d}.jpg")
        labels = np.zeros((48, 64), np.uint8)
        labels[5:20, 5 + index % 10 : 25 + index % 10] = 1
        if index % 2 == 0:
            labels[30:40, 30:50] = 2
        write_label_map(masks / f"{index:05d}.png", labels)
    return root


def test_delete_merge_undo_run_in_a_worker_with_progress(qtbot, tmp_path, monkeypatch):
    root = make_long_video(tmp_path / "lvos")
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, root)
    annotation = c.annotation
    before = [annotation.label_map(i) for i in range(FRAMES)]
    assert annotation.frame_count(1) == FRAMES > SMALL_FRAMES

    threads: list[bool] = []  # computed on the GUI thread?
    for name in ("prepare_remove", "prepare_merge", "prepare_undo", "prepare_redo"):
        real = getattr(annotation, name)

        def recording(*args, real=real, **kwargs):
            threads.append(threading.current_thread() is threading.main_thread())
            return real(*args, **kwargs)

        monkeypatch.setattr(annotation, name, recording)
    progress: list[tuple[int, int]] = []
    c.jobs.progress.connect(lambda done, total: progress.append((done, total)))

    with qtbot.waitSignal(c.jobs.finished, timeout=30_000):
        c.delete_object(1)
        assert c.busy == "delete object 1" and window.status.progress_label.isVisible()
        c.paint(np.ones((48, 64), bool))  # edits wait for it
        assert "Wait for delete object 1" in window.message_label.text()
        assert not window.actions["undo"].isEnabled()
    assert progress[0] == (0, FRAMES) and progress[-1] == (FRAMES, FRAMES)
    assert not window.status.progress_label.isVisible()
    assert 1 not in annotation.objects and annotation.frame_count(1) == 0
    assert all(not (annotation.label_map(i) == 1).any() for i in range(FRAMES))
    qtbot.waitUntil(lambda: window.objects.tree.topLevelItemCount() == 1)  # redrawn soon
    assert window.actions["undo"].text() == "Undo delete object 1"

    with qtbot.waitSignal(c.jobs.finished, timeout=30_000):
        c.undo()
    assert all(np.array_equal(annotation.label_map(i), before[i]) for i in range(FRAMES))
    with qtbot.waitSignal(c.jobs.finished, timeout=30_000):
        c.merge_objects([1, 2])
    assert list(annotation.objects) == [1] and annotation.frame_count(1) == FRAMES
    assert all(np.array_equal(annotation.label_map(i), np.minimum(before[i], 1))
               for i in range(FRAMES))
    with qtbot.waitSignal(c.jobs.finished, timeout=30_000):
        c.undo()
    with qtbot.waitSignal(c.jobs.finished, timeout=30_000):
        c.redo()
    assert list(annotation.objects) == [1]
    assert threads == [False] * 5  # every one computed in the worker

    assert c.autosaver.wait_idle()  # and saved as the person left it
    window.close()
    again = make_window(qtbot, tmp_path, monkeypatch)
    open_and_wait(qtbot, again, root)
    assert list(again.controller.annotation.objects) == [1]
    assert again.controller.annotation.frame_count(1) == FRAMES
