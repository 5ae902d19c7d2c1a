"""Bad input shows a message that names the file; the app stays up and keeps working."""

from __future__ import annotations

import numpy as np
from gui_helpers import LONG_WAIT_MS, make_lvos_dataset, make_window, open_and_wait
from PIL import Image

from annotator.annotation import FrameState


def test_unreadable_frame_is_named_and_skipped(qtbot, tmp_path, monkeypatch, davis_root):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 8, first_mask=True)
    broken = root / "JPEGImages" / "bear" / "00003.jpg"
    broken.write_bytes(b"this is not a JPEG")
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, root)

    c.set_index(3)
    assert str(broken) in window.last_error and "cannot read the frame" in window.last_error
    assert c.frame().shape == (480, 854, 3)  # a grey stand-in, the window carries on
    window.last_error = ""
    c.step(1)
    assert c.index == 4 and window.last_error == ""

    # a propagation that reaches the broken frame stops there and says which file it was
    c.set_index(0)
    qtbot.waitUntil(lambda: "loading" not in c.propagation.description, timeout=LONG_WAIT_MS)
    with qtbot.waitSignal(c.propagation.finished, timeout=LONG_WAIT_MS):
        window.propagate("forward")
    assert str(broken) in window.last_error
    assert [c.annotation.state(i, 1) for i in (1, 2)] == [FrameState.PROPAGATED] * 2
    assert c.annotation.state(3, 1) == FrameState.EMPTY
    assert c.can_undo and window.isVisible()
    c.undo()
    assert not c.annotation.label_map(1).any()


def test_mask_of_the_wrong_size_is_named(qtbot, tmp_path, monkeypatch, davis_root):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 4)
    wrong = root / "Annotations" / "bear" / "00001.png"
    wrong.parent.mkdir(parents=True)
    Image.fromarray(np.ones((100, 120), np.uint8), mode="L").save(wrong)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    c.open(root)
    qtbot.waitUntil(lambda: window.last_error != "", timeout=30_000)
    assert str(wrong) in window.last_error and "120x100" in window.last_error
    assert c.annotation is None and window.isVisible()
    assert wrong.read_bytes()  # nothing on disk was touched

    wrong.unlink()  # fixed: the same window opens it now
    open_and_wait(qtbot, window, root)
    assert c.frame_count == 4


def test_broken_checkpoints_are_named_and_replaced(qtbot, tmp_path, monkeypatch):
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "mobile_sam.pt").write_bytes(b"\x80\x02 truncated pickle")
    (weights / "stcn.pth").write_bytes(b"PK\x03\x04 not really a zip")
    window = make_window(qtbot, tmp_path, monkeypatch, click_engine="auto",
                         propagation_engine="auto")
    c = window.controller
    qtbot.waitUntil(lambda: "loading" not in c.clicker.description + c.propagation.description,
                    timeout=LONG_WAIT_MS)
    # 'auto' falls back in the engine layer: the description names the file and why
    assert str(weights / "mobile_sam.pt") in c.clicker.description
    assert str(weights / "stcn.pth") in c.propagation.description
    assert c.clicker.description.startswith("classic")
    assert c.propagation.description.startswith("classic")
    assert "failed to load" in c.clicker.description
    assert window.isVisible()


def test_a_failing_save_keeps_the_work_and_retries(qtbot, tmp_path, monkeypatch, davis_root):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 3)
    blocker = root / "Annotations"
    blocker.write_text("a file where the masks folder should be")
    monkeypatch.setattr("annotator.gui.autosave.RETRY_DELAY_MS", 200)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, root)
    square = np.zeros((480, 854), bool)
    square[100:150, 100:180] = True
    c.paint(square)
    qtbot.waitUntil(lambda: c.autosaver.failures > 0, timeout=30_000)
    assert window.save_label.text() == "NOT SAVED" and "Could not save" in \
        window.message_label.text()
    assert (root / ".annotator" / "bear.journal").stat().st_size > 0  # the work is kept

    blocker.unlink()  # the disk is fine again: the next retry saves
    qtbot.waitUntil(lambda: (root / "Annotations" / "bear" / "00000.png").exists(),
                    timeout=30_000)
    assert c.autosaver.wait_idle() and not c.annotation.is_dirty
    saved = np.asarray(Image.open(root / "Annotations" / "bear" / "00000.png"))
    assert np.array_equal(saved == 1, square)
    assert not (root / ".annotator" / "bear.journal").exists()


def test_frames_too_small_to_propagate_are_named_before_the_worker_starts(
        qtbot, tmp_path, monkeypatch):
    folder = tmp_path / "tiny"
    folder.mkdir()
    for index in range(4):
        Image.fromarray(np.full((8, 12, 3), 40 * index, np.uint8)).save(folder / f"{index}.png")
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, folder)
    object_id = c.add_object()
    c.annotation.set_label_map(0, np.full((8, 12), object_id, np.uint8))
    messages: list[str] = []
    c.propagation.message.connect(messages.append)
    window.propagate("forward")
    assert not c.propagation.running
    assert any("12x8 pixels" in m and "at least 32x32" in m and str(folder) in m
               for m in messages), messages
    assert c.annotation.state(1, object_id) == FrameState.EMPTY and window.isVisible()
