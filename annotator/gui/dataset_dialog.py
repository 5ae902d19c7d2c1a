"""Pick a video of a dataset root; each row shows how far its annotation has come."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from annotator.gui.workers import TaskQueue
from annotator.video.dataset import Dataset


@dataclass(frozen=True)
class VideoProgress:
    """How many frames a video has and how many hold an annotation PNG."""

    video: str
    frames: int
    annotated: int


class DatasetDialog(QDialog):
    """A list of the videos; progress per video fills in as a worker counts the files."""

    def __init__(self, title: str, videos: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Open a video — {title}")
        self.resize(520, 460)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Video", "Frames", "Annotated"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setColumnWidth(0, 240)
        self._bars: dict[str, QProgressBar] = {}
        for video in videos:
            item = QTreeWidgetItem([video, "…", ""])
            item.setData(0, Qt.ItemDataRole.UserRole, video)
            self.tree.addTopLevelItem(item)
            bar = QProgressBar()
            bar.setRange(0, 0)  # busy until counted
            bar.setMaximumHeight(14)
            self.tree.setItemWidget(item, 2, bar)
            self._bars[video] = bar
        if videos:
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self.tree.itemDoubleClicked.connect(lambda *_: self.accept())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{len(videos)} videos"))
        layout.addWidget(self.tree)
        layout.addWidget(buttons)

    def show_progress(self, progress: VideoProgress) -> None:
        bar = self._bars.get(progress.video)
        if bar is None:
            return
        items = self.tree.findItems(progress.video, Qt.MatchFlag.MatchExactly, 0)
        if items:
            items[0].setText(1, str(progress.frames))
        bar.setRange(0, max(1, progress.frames))
        bar.setValue(progress.annotated)
        bar.setFormat(f"{progress.annotated} / {progress.frames}")

    def chosen(self) -> str | None:
        item = self.tree.currentItem()
        return None if item is None else item.data(0, Qt.ItemDataRole.UserRole)


def count_progress(tasks: TaskQueue, dataset: Dataset, report: Callable[[VideoProgress], None],
                   wanted: Callable[[], bool] = lambda: True) -> None:
    """Count frames and annotated frames of each video in the task worker, one report each;
    videos not reached while `wanted()` is true are skipped."""
    for video in dataset.videos:
        tasks.submit(lambda v=video: _video_progress(dataset, v) if wanted() else None,
                     lambda progress: progress is not None and report(progress))


def _video_progress(dataset: Dataset, video: str) -> VideoProgress:
    with dataset.frames(video, cache_bytes=0) as frames:
        count = len(frames)
    return VideoProgress(video, count, len(dataset.mask_paths(video)))
