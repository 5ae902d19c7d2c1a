"""Shared pieces of the GUI tests: small datasets cut from a dev sequence, a window with its own
settings file and the weights-free engines, and mouse input in image coordinates."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, QSettings, Qt
from PyQt6.QtTest import QTest
from pytestqt.qtbot import QtBot

from annotator.formats.masks import read_label_map, write_label_map
from annotator.gui.app import build_window
from annotator.gui.main_window import MainWindow
from annotator.gui.settings import AppSettings, Preferences

LONG_WAIT_MS = 90_000  # a click or a pass on a busy 2-core machine

# The start of a script that runs the app in a child process (python -c SCRIPT VIDEO SETTINGS):
# `app`, and `c`, the controller of a window with the weights-free engines and its own settings.
CHILD_WINDOW = textwrap.dedent("""
    import sys
    from PyQt6.QtCore import QSettings
    from PyQt6.QtWidgets import QApplication
    app = QApplication([])
    from annotator.gui.app import build_window
    from annotator.gui.settings import AppSettings, Preferences
    settings = AppSettings(QSettings(sys.argv[2], QSettings.Format.IniFormat))
    settings.save_preferences(Preferences(click_engine="classic", propagation_engine="classic"))
    window = build_window(settings)
    c = window.controller
""")


def make_lvos_dataset(davis_root: Path, target: Path, sequence: str, frames: int,
                      first_mask: bool = False) -> Path:
    """`target` as an LVOS root holding the first `frames` frames of a DAVIS sequence; with
    `first_mask`, the ground truth of frame 0 as its only annotation."""
    source = davis_root / "JPEGImages" / "480p" / sequence
    images = target / "JPEGImages" / sequence
    images.mkdir(parents=True)
    for path in sorted(source.glob("*.jpg"))[:frames]:
        shutil.copy(path, images / path.name)
    if first_mask:
        labels = read_label_map(davis_root / "Annotations" / "480p" / sequence / "00000.png")
        write_label_map(target / "Annotations" / sequence / "00000.png", labels)
    return target


def ground_truth(davis_root: Path, sequence: str, index: int) -> np.ndarray:
    """Bool mask of the DAVIS ground truth (object 1) of frame `index`."""
    path = davis_root / "Annotations" / "480p" / sequence / f"{index:05d}.png"
    return read_label_map(path) == 1


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def make_window(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                **prefs: object) -> MainWindow:
    """A shown main window with a settings file of its own and the weights-free engines."""
    weights = tmp_path / "weights"
    weights.mkdir(exist_ok=True)
    monkeypatch.setenv("VOS_ANNOTATOR_WEIGHTS", str(weights))
    settings = AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    chosen = {"click_engine": "classic", "propagation_engine": "classic", **prefs}
    settings.save_preferences(Preferences(**chosen))
    window = build_window(settings)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    return window


def open_and_wait(qtbot: QtBot, window: MainWindow, path: Path) -> None:
    controller = window.controller
    controller.open(path)
    qtbot.waitUntil(lambda: controller.annotation is not None, timeout=30_000)


def view_point(window: MainWindow, x: float, y: float) -> QPoint:
    """Where image pixel (x, y) is on the canvas viewport."""
    return window.canvas.mapFromScene(QPointF(x, y))


def click_image(window: MainWindow, x: float, y: float,
                button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
    QTest.mouseClick(window.canvas.viewport(), button, Qt.KeyboardModifier.NoModifier,
                     view_point(window, x, y))


def drag_image(window: MainWindow, points: list[tuple[float, float]]) -> None:
    """Press at the first point, move through the others, release at the last."""
    viewport = window.canvas.viewport()
    first = view_point(window, *points[0])
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, first)
    for x, y in points[1:]:
        QTest.mouseMove(viewport, view_point(window, x, y))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       view_point(window, *points[-1]))


def press_key(window: MainWindow, key: Qt.Key,
              modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    window.activateWindow()
    window.canvas.setFocus()
    QTest.keyClick(window.canvas, key, modifiers)
