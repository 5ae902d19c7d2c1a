"""File dialogs start beside the last thing chosen in one or opened (kept in the settings), at
home before that, never in the folder the program happened to be started from."""

from __future__ import annotations

import shutil

from gui_helpers import make_window
from PyQt6.QtWidgets import QFileDialog


def test_dialogs_start_beside_the_last_choice(qtbot, tmp_path, monkeypatch, davis_root):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    monkeypatch.chdir(tmp_path)
    clip = tmp_path / "clips" / "bear"
    clip.mkdir(parents=True)
    for frame in sorted((davis_root / "JPEGImages" / "480p" / "bear").glob("*.jpg"))[:3]:
        shutil.copy(frame, clip)
    starts: list[str] = []
    answers = iter([str(clip), "", ""])

    def folder_dialog(parent, title, start):
        starts.append(start)
        return next(answers)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", folder_dialog)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda parent, title, start, filters: (starts.append(start), "")[1:] * 2)
    window = make_window(qtbot, tmp_path, monkeypatch)
    window.open_folder()  # nothing chosen yet: at home
    assert starts == [str(tmp_path / "home")]
    qtbot.waitUntil(lambda: window.controller.frame_count > 0, timeout=20_000)
    window.open_video_file()  # beside the folder just opened, also in the review's dialogs
    window.review_view.choose_ground_truth()
    assert starts[1:] == [str(tmp_path / "clips")] * 2
    window.settings.store.sync()  # kept for the next session
    assert str(tmp_path / "clips") in (tmp_path / "settings.ini").read_text()
    # a video opened without a dialog (from the command line, or reopened): beside it, too
    other = tmp_path / "elsewhere" / "clip"
    shutil.copytree(clip, other)
    window.controller.open(str(other))
    c = window.controller
    qtbot.waitUntil(lambda: c.opened is not None and str(c.opened.reopen()[0]) == str(other),
                    timeout=20_000)
    window.review_view.choose_ground_truth()
    assert starts[-1] == str(tmp_path / "elsewhere")
