"""Weights from the window: the models the registry knows, with their size and state; a known
one downloaded (progress, resume, SHA-256 check) or a file a person has added (checked as
`vos-annotator weights add` checks it), both in a worker. When weights arrive the window's
engines load again, with no restart."""

from __future__ import annotations

import threading
from pathlib import Path

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from annotator.engine.weights import KNOWN, list_weights, partial_download, weights_dir
from annotator.gui.workers import TaskQueue

MB = 1e6


class WeightsDialog(QDialog):
    weights_changed = pyqtSignal()  # weights were downloaded or added
    _progress = pyqtSignal(int, object)  # bytes so far, total or None (from the worker)

    def __init__(self, folder: str | None, queue: TaskQueue,
                 parent: QWidget | None = None) -> None:
        """`folder`: the weights folder (None: the user's); `queue`: the worker that downloads
        and checks (it outlives the dialog)."""
        super().__init__(parent)
        self.folder = folder
        self.setWindowTitle("Weights")
        self.resize(860, 360)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Model", "Size", "State", "What it is"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for column, width in enumerate((70, 90, 330)):
            self.tree.setColumnWidth(column, width)
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.bar = QProgressBar()
        self.bar.setVisible(False)
        self.status = QLabel(f"Weights folder: {weights_dir(folder)}")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self.download)
        self.add_button = QPushButton("Add a file…")
        self.add_button.setToolTip("A checkpoint you have: it is checked by loading its tensors "
                                   "as the engine will, then registered where it is")
        self.add_button.clicked.connect(self.add_file)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the download; it resumes where it stopped next time")
        self.stop_button.clicked.connect(self.stop)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for button in (self.download_button, self.add_button, self.stop_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self._queue = queue
        self._stop = threading.Event()
        self.working = ""  # what the worker is doing now ("" when idle)
        self._progress.connect(self._show_progress)
        self.refresh()

    # ---- the list ------------------------------------------------------------------------
    def refresh(self) -> None:
        """One row per known model: its size and whether it is here, partly or not at all."""
        chosen = self.chosen()
        self.tree.clear()
        for status in list_weights(self.folder):
            known = status.known
            size = f"{known.size / MB:.0f} MB" if known.size else "unknown"
            item = QTreeWidgetItem([known.name, size, self._state(known.name, status.path),
                                    known.description])
            item.setData(0, Qt.ItemDataRole.UserRole, known.name)
            item.setToolTip(2, item.text(2))
            self.tree.addTopLevelItem(item)
            if known.name == chosen or (chosen is None and self.tree.currentItem() is None):
                self.tree.setCurrentItem(item)
        self._update_buttons()

    def _state(self, name: str, path: Path | None) -> str:
        if path is not None:
            return f"present: {path}"
        have, known = partial_download(name, self.folder), KNOWN[name]
        if have and known.size:
            return f"partly downloaded ({have / MB:.0f} of {known.size / MB:.0f} MB): resumes"
        if known.sha256 is None:
            return "missing (no published checksum: add the file you have)"
        return "missing"

    def chosen(self) -> str | None:
        item = self.tree.currentItem()
        return None if item is None else str(item.data(0, Qt.ItemDataRole.UserRole))

    def row_state(self, name: str) -> str:
        """The state column of model `name`, as shown."""
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == name:
                return item.text(2)
        return ""

    def _update_buttons(self) -> None:
        name = self.chosen()
        idle = not self.working
        present = name is not None and self.row_state(name).startswith("present")
        downloadable = name is not None and KNOWN[name].sha256 is not None
        self.download_button.setEnabled(idle and downloadable and not present)
        self.add_button.setEnabled(idle)
        self.stop_button.setEnabled(self.working == "download")

    # ---- work ----------------------------------------------------------------------------
    def download(self) -> None:
        """Download the chosen model in the worker (resuming what an earlier try left)."""
        from annotator.engine.weights_download import download_weights

        name = self.chosen()
        if name is None or self.working:
            return
        self._stop.clear()
        self._start("download", f"Downloading {name}…")
        folder = self.folder
        self._queue.submit(
            lambda: download_weights(name, self._progress.emit, folder=folder,
                                     should_stop=self._stop.is_set),
            lambda path: self._done(f"{name} downloaded and its SHA-256 checked: {path}"),
            self._failed)

    def add_file(self) -> None:
        """Ask for a checkpoint, check that it loads as the engine will load it, register it."""
        path, _ = QFileDialog.getOpenFileName(self, "A checkpoint you have", "",
                                              "Checkpoints (*.pth *.pt *.ckpt);;All files (*)")
        if not path or self.working:
            return
        self._start("add", f"Checking {path}…")
        folder = self.folder
        self._queue.submit(lambda: _add(path, folder), self._done, self._failed)

    def stop(self) -> None:
        self._stop.set()

    def _start(self, what: str, text: str) -> None:
        self.working = what
        self.status.setText(text)
        self.bar.setRange(0, 0)
        self.bar.setVisible(True)
        self._update_buttons()

    def _show_progress(self, done: int, total: int | None) -> None:
        if total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(1000 * done / total))
            self.status.setText(f"Downloading: {done / MB:.1f} of {total / MB:.1f} MB")
        else:
            self.status.setText(f"Downloading: {done / MB:.1f} MB")

    def _done(self, text: str) -> None:
        self._end(text)
        self.weights_changed.emit()

    def _failed(self, message: str) -> None:
        self._end(message)

    def _end(self, text: str) -> None:
        self.working = ""
        self.bar.setVisible(False)
        self.status.setText(text)
        self.refresh()

    def done(self, result: int) -> None:
        """Closing stops a download (it resumes next time) and waits for the worker."""
        self._stop.set()
        if self.working:
            self._queue.wait_idle()
        super().done(result)


def _add(path: str, folder: str | None) -> str:
    """`weights add` in the worker; a sentence on what was registered."""
    from annotator.engine.weights_add import add_weights

    added = add_weights(path, folder=folder)
    check = {True: "it matches the official SHA-256",
             False: "it differs from the official file (a fine-tuned or other release)",
             None: "no sum is published; its SHA-256 is recorded"}[added.official]
    return f"Registered {added.name}: {added.path}; {check}."
