"""Moving through a video and between sessions: keyframes, playback, the timeline, a dataset's
video list with progress, reopening the last session, settings, and the shortcut list."""

from __future__ import annotations

import shutil

import numpy as np
from gui_helpers import make_lvos_dataset, make_window, open_and_wait, press_key
from PyQt6.QtCore import QPoint, QSettings, Qt
from PyQt6.QtGui import QKeySequence
from PyQt6.QtTest import QTest

from annotator.annotation import VideoAnnotation
from annotator.formats.masks import read_label_map, write_label_map
from annotator.gui.annotation_rows import timeline_rows
from annotator.gui.app import build_window
from annotator.gui.dataset_dialog import DatasetDialog, count_progress
from annotator.gui.settings import AppSettings, Preferences, SettingsDialog
from annotator.gui.shortcuts import SHORTCUTS, help_html
from annotator.gui.timeline import (
    DOUBT_COLOUR,
    EDITED,
    EMPTY,
    KEYFRAME,
    LABEL_WIDTH,
    PROPAGATED,
    ROW_HEIGHT,
    RULER_HEIGHT,
    Timeline,
    TimelineRow,
    bin_states,
    runs,
)
from annotator.video.dataset import open_dataset


def test_timeline_bins_keep_the_strongest_state_and_clicks_seek(qtbot):
    states = np.array([EMPTY, PROPAGATED, KEYFRAME, PROPAGATED, EDITED, EMPTY, EMPTY, EMPTY],
                      np.uint8)
    assert bin_states(states, 4).tolist() == [PROPAGATED, KEYFRAME, EDITED, EMPTY]
    assert bin_states(states, 16).tolist() == np.repeat(states, 2).tolist()
    assert runs(np.array([0, 0, 3, 1, 1])) == [(0, 0, 2), (3, 2, 3), (1, 3, 5)]

    timeline = Timeline()
    qtbot.addWidget(timeline)
    timeline.resize(LABEL_WIDTH + 4 + 200, 60)
    timeline.set_rows([TimelineRow(1, "1 bear", (128, 0, 0), states, np.zeros(8, bool))], 8)
    timeline.show()
    with qtbot.waitSignal(timeline.seek) as sought:
        QTest.mouseClick(timeline, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         QPoint(LABEL_WIDTH + 5 * 25 + 12, 25))
    assert sought.args == [5]
    with qtbot.waitSignal(timeline.object_clicked) as clicked:
        QTest.mouseClick(timeline, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         QPoint(30, 22))
    assert clicked.args == [1]


def test_timeline_marks_the_frames_whose_propagated_mask_the_engine_doubts(qtbot, davis_root):
    truth = [read_label_map(davis_root / "Annotations" / "480p" / "bear" / f"{i:05d}.png")
             for i in range(8)]
    annotation = VideoAnnotation([f"{i:05d}" for i in range(8)], *truth[0].shape)
    annotation.add_object(object_id=1)
    annotation.set_label_map(0, truth[0])
    for index in range(1, 8):  # the engine doubts frames 3 to 5
        annotation.apply_propagated(index, truth[index], confidence={1: 0.2 if 3 <= index <= 5
                                                                     else 0.9})
    annotation.set_label_map(5, truth[5])  # a person fixed frame 5: no longer doubted
    (row,) = timeline_rows(annotation)
    assert row.doubted.tolist() == [False, False, False, True, True, False, False, False]

    timeline = Timeline()
    qtbot.addWidget(timeline)
    timeline.resize(LABEL_WIDTH + 4 + 160, 60)
    timeline.set_rows([row], 8)
    timeline.show()
    qtbot.waitExposed(timeline)
    image = timeline.grab().toImage()
    y = RULER_HEIGHT + ROW_HEIGHT - 3  # the doubt line at the bottom of the row
    red = [image.pixelColor(LABEL_WIDTH + 20 * frame + 10, y) == DOUBT_COLOUR
           for frame in range(8)]
    assert red == row.doubted.tolist()


def test_keyframes_playback_and_reopening(qtbot, tmp_path, monkeypatch, davis_root):
    root = make_lvos_dataset(davis_root, tmp_path / "lvos", "bear", 6, first_mask=True)
    truth = read_label_map(davis_root / "Annotations" / "480p" / "bear" / "00004.png")
    write_label_map(root / "Annotations" / "bear" / "00004.png", truth)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller
    open_and_wait(qtbot, window, root)
    assert c.annotation.keyframe_indices() == [0, 4]
    assert np.array_equal(c.annotation.label_map(4), truth)

    controls = window.frame_controls
    press_key(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert c.index == 4
    press_key(window, Qt.Key.Key_Left)
    assert c.index == 3 and controls.number.value() == 4
    assert controls.total.text().startswith("/ 6")
    press_key(window, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    assert c.index == 0 and window.slider.value() == 0
    press_key(window, Qt.Key.Key_P)
    assert window.play_button.isChecked()
    qtbot.waitUntil(lambda: not window.play_button.isChecked(), timeout=10_000)
    assert c.index == 5 and window.timeline.current == 5

    # past the last keyframe: a message, and the frame stays; Home and End; the buttons
    press_key(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert c.index == 5 and "No keyframe after frame 6" in window.message_label.text()
    press_key(window, Qt.Key.Key_Home)
    assert c.index == 0
    press_key(window, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    assert c.index == 0 and "No keyframe before frame 1" in window.message_label.text()
    press_key(window, Qt.Key.Key_End)
    assert c.index == 5
    controls.buttons["first_frame"].click()
    assert c.index == 0
    controls.buttons["next_keyframe"].click()
    assert c.index == 4
    controls.buttons["last_frame"].click()  # ▶| is the last frame
    assert c.index == 5 and controls.buttons["last_frame"].text() == "▶|"
    controls.buttons["previous_keyframe"].click()
    assert c.index == 4

    # Ctrl+G: type a frame number, Return goes there (Return does not accept a candidate)
    press_key(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert controls.number.hasFocus()
    QTest.keyClicks(controls.number, "3")
    QTest.keyClick(controls.number, Qt.Key.Key_Return)
    assert c.index == 2 and window.canvas.hasFocus()

    # the last session comes back in a new window, at the same frame, with the same object
    # selected and the same brush
    c.add_object()
    window.brush_size.setValue(27)
    window.close()
    settings = AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    assert settings.preferences().brush_size == 27 and settings.last_object() == 2
    again = build_window(settings)
    qtbot.addWidget(again)
    again.show()
    assert again.brush_size.value() == 27 and again.tools["brush"].size == 27
    again.reopen_last()
    qtbot.waitUntil(lambda: again.controller.annotation is not None, timeout=30_000)
    assert again.controller.index == 2 and again.controller.video == "bear"
    assert again.controller.current_object == 2
    assert again.objects.current_id() == 2


def test_dataset_root_lists_videos_with_progress(qtbot, tmp_path, monkeypatch, davis_root):
    root = tmp_path / "davis"
    for sequence, frames in (("boat", 3), ("rhino", 4)):
        source = davis_root / "JPEGImages" / "480p" / sequence
        target = root / "JPEGImages" / "480p" / sequence
        target.mkdir(parents=True)
        for path in sorted(source.glob("*.jpg"))[:frames]:
            shutil.copy(path, target / path.name)
    masks = root / "Annotations" / "480p" / "rhino"
    masks.mkdir(parents=True)
    shutil.copy(davis_root / "Annotations" / "480p" / "rhino" / "00000.png", masks)
    window = make_window(qtbot, tmp_path, monkeypatch)
    c = window.controller

    dataset = open_dataset(root)
    dialog = DatasetDialog("davis", dataset.videos)
    qtbot.addWidget(dialog)
    count_progress(c.tasks, dataset, dialog.show_progress)
    qtbot.waitUntil(lambda: not c.tasks.busy, timeout=30_000)
    bars = {video: dialog._bars[video] for video in dataset.videos}
    assert [(bars[v].maximum(), bars[v].value()) for v in ("boat", "rhino")] == [(3, 0), (4, 1)]

    chooser: list[list[str]] = []

    def pick_second(self):
        chooser.append([self.tree.topLevelItem(i).text(0)
                        for i in range(self.tree.topLevelItemCount())])
        self.tree.setCurrentItem(self.tree.topLevelItem(1))
        return 1

    monkeypatch.setattr(DatasetDialog, "exec", pick_second)
    c.open(root)
    assert chooser == [["boat", "rhino"]]
    qtbot.waitUntil(lambda: c.annotation is not None, timeout=30_000)
    assert c.video == "rhino" and c.frame_count == 4 and list(c.annotation.objects) == [1]
    assert window.settings.last_session() == (str(root), "rhino", 0)


def test_settings_and_shortcuts(qtbot, tmp_path, monkeypatch):
    settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert settings.preferences() == Preferences() and settings.last_session() is None
    chosen = Preferences(click_engine="classic", propagation_engine="stcn", device="cpu",
                         weights_dir=str(tmp_path), memory_frames=12, frame_cache_mb=256,
                         opacity=70)
    settings.save_preferences(chosen)
    settings.remember_session("/data/lvos", "0tCWPOrc", 17)
    reread = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert reread.preferences() == chosen
    assert reread.last_session() == ("/data/lvos", "0tCWPOrc", 17)
    dialog = SettingsDialog(chosen)
    qtbot.addWidget(dialog)
    assert dialog.preferences() == chosen
    dialog.device.setCurrentText("auto")
    assert dialog.preferences().device == "auto"

    window = make_window(qtbot, tmp_path, monkeypatch)
    listed = help_html()
    for name, (key, text) in SHORTCUTS.items():
        assert window.actions[name].shortcut() == QKeySequence(key), name
        assert f"<b>{key}</b></td><td>{text}" in listed
    sequences = [QKeySequence(key).toString() for key, _ in SHORTCUTS.values()]
    assert len(set(sequences)) == len(sequences)  # no key does two things
