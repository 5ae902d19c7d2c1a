"""Persistent preferences (QSettings) and the settings dialog: engines, device, memory, weights."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from PyQt6.QtCore import QSettings, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from annotator.engine.choices import CLICK_ENGINES, PROPAGATION_ENGINES

DEVICES = ("auto", "cpu", "cuda", "mps")


WORKER_CACHE_BYTES = 128 * 2**20  # at most, of the frame cache: the propagation worker's


@dataclass
class Preferences:
    click_engine: str = "auto"
    propagation_engine: str = "auto"
    device: str = "auto"
    weights_dir: str = ""
    memory_frames: int = 0  # 0: the engine's default budget
    frame_cache_mb: int = 512
    opacity: int = 50  # percent
    brush_size: int = 15  # pixels
    protect: bool = True  # strokes, candidates and new objects take only background

    @property
    def worker_cache_bytes(self) -> int:
        """The propagation worker's share of the frame cache (it reads its frames in order)."""
        return min(WORKER_CACHE_BYTES, self.frame_cache_mb * 2**20 // 4)

    @property
    def viewer_cache_bytes(self) -> int:
        """The window's share: the rest, so that both caches together keep to the setting."""
        return self.frame_cache_mb * 2**20 - self.worker_cache_bytes


class AppSettings:
    """Preferences and the last session, kept in QSettings (a file in tests)."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else QSettings("VOS Annotator", "vos-annotator")

    def preferences(self) -> Preferences:
        prefs = Preferences()
        for field in fields(Preferences):
            default = getattr(prefs, field.name)
            value = self.store.value(f"preferences/{field.name}", default)
            if isinstance(default, bool):  # an INI file gives "true" / "false"
                setattr(prefs, field.name, str(value).lower() in ("true", "1"))
                continue
            try:
                setattr(prefs, field.name, type(default)(value))
            except (TypeError, ValueError):
                setattr(prefs, field.name, default)
        return prefs

    def save_preferences(self, prefs: Preferences) -> None:
        for field in fields(Preferences):
            self.store.setValue(f"preferences/{field.name}", getattr(prefs, field.name))
        self.store.sync()

    def last_session(self) -> tuple[str, str | None, int] | None:
        """(path that was opened, video of it or None, frame index), or None."""
        path = self.store.value("session/path", "")
        if not path:
            return None
        video = self.store.value("session/video", "") or None
        try:
            frame = int(self.store.value("session/frame", 0))
        except (TypeError, ValueError):
            frame = 0
        return str(path), video, frame

    def remember_session(self, path: str | Path, video: str | None, frame: int) -> None:
        self.store.setValue("session/path", str(path))
        self.store.setValue("session/video", video or "")
        self.store.setValue("session/frame", int(frame))

    def dialog_folder(self) -> str:
        """Where a file dialog starts: beside the last thing chosen in one, else at home."""
        folder = str(self.store.value("dialogs/folder", "") or "")
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    def remember_chosen(self, path: str | Path) -> None:
        """A file or folder chosen in a dialog: the next dialog starts in the folder holding it."""
        self.store.setValue("dialogs/folder", str(Path(path).parent))

    def last_object(self) -> int | None:
        """The object selected when the last session ended, or None."""
        try:
            value = int(self.store.value("session/object", 0))
        except (TypeError, ValueError):
            return None
        return value or None

    def remember_object(self, object_id: int | None) -> None:
        self.store.setValue("session/object", int(object_id or 0))


class SettingsDialog(QDialog):
    """Edit the preferences; a changed engine choice loads at once (no restart)."""

    weights_requested = pyqtSignal()  # "Download or add weights…"

    def __init__(self, prefs: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        form = QFormLayout(self)
        self.click_engine = _combo(CLICK_ENGINES, prefs.click_engine)
        self.propagation_engine = _combo(PROPAGATION_ENGINES, prefs.propagation_engine)
        self.device = _combo(DEVICES, prefs.device)
        self.memory_frames = QSpinBox()
        self.memory_frames.setRange(0, 1000)
        self.memory_frames.setSpecialValueText("engine default")
        self.memory_frames.setValue(prefs.memory_frames)
        self.frame_cache = QSpinBox()
        self.frame_cache.setRange(64, 65536)
        self.frame_cache.setSuffix(" MB")
        self.frame_cache.setValue(prefs.frame_cache_mb)
        self.weights_dir = QLineEdit(prefs.weights_dir)
        self.weights_dir.setPlaceholderText("default weights folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        weights_row = QHBoxLayout()
        weights_row.addWidget(self.weights_dir)
        weights_row.addWidget(browse)
        manage = QPushButton("Download or add weights…")
        manage.clicked.connect(self.weights_requested)
        form.addRow("Click engine", self.click_engine)
        form.addRow("Propagation engine", self.propagation_engine)
        form.addRow("Device", self.device)
        form.addRow("Propagation memory (frames)", self.memory_frames)
        form.addRow("Frame cache", self.frame_cache)
        form.addRow("Weights folder", weights_row)
        form.addRow("", manage)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._opacity = prefs.opacity
        self._kept = prefs  # what the window sets elsewhere (brush, protection) stays

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Weights folder", self.weights_dir.text())
        if folder:
            self.weights_dir.setText(folder)

    def preferences(self) -> Preferences:
        return Preferences(
            click_engine=self.click_engine.currentText(),
            propagation_engine=self.propagation_engine.currentText(),
            device=self.device.currentText(),
            weights_dir=self.weights_dir.text().strip(),
            memory_frames=self.memory_frames.value(),
            frame_cache_mb=self.frame_cache.value(),
            opacity=self._opacity,
            brush_size=self._kept.brush_size,
            protect=self._kept.protect,
        )


def _combo(choices: tuple[str, ...], current: str) -> QComboBox:
    box = QComboBox()
    box.addItems(choices)
    if current in choices:
        box.setCurrentText(current)
    return box
