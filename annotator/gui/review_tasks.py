"""The review's long jobs, run in the review's task worker: opening a prediction next to the
open video's frames (its review copy is made, then opened, with the video's own masks as
ground truth when it has some and none is chosen) and writing the report of the open video."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QObject

from annotator.engine.mask_sets import open_masks
from annotator.engine.review_copy import copy_folder, make_review_copy
from annotator.engine.review_run import ReviewInputs, write_review
from annotator.formats.atomic import safe_join
from annotator.formats.lvvis import read_instances
from annotator.gui.annotation_rows import colour_table
from annotator.gui.controller import Controller
from annotator.gui.review_control import ReviewControl
from annotator.video.dataset import png_files


class ReviewTasks(QObject):
    def __init__(self, controller: Controller, review: ReviewControl,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller, self.review = controller, review
        self.busy = False
        self._truth_next: Path | None = None  # ground truth for the copy about to open
        controller.video_opened.connect(self._on_video_opened)

    def open_prediction(self, path: Path) -> bool:
        """Make (or find) the review copy of the prediction at `path` for the open video and
        open it; False (and a message) when that cannot start."""
        c = self.controller
        opened = c.opened
        if opened is None:
            c.message.emit("Open the video's frames first, then its prediction")
            return False
        if c.propagation.running or self.busy:
            c.message.emit("Wait for the running job to finish")
            return False
        project, annotation = opened.project, opened.annotation
        frames, video = Path(project.frames.path), project.video
        names, size = list(annotation.frame_names), annotation.size
        own = project.dataset.mask_dir(video)
        truth = own if not self.review.active and png_files(own) else None
        instances_json = project.dataset.instances_json

        def make() -> Path:
            instances = read_instances(instances_json) if instances_json is not None else None
            source = open_masks(path, instances)
            return make_review_copy(source, frames, video, names, size)

        self.busy = True
        c.message.emit(f"Opening the prediction {path} (review copy in {copy_folder(path)})…")
        self.review.tasks.submit(make, lambda target: self._made(target, video, truth),
                                 self._failed)
        return True

    def _made(self, target: Path, video: str, truth: Path | None) -> None:
        self.busy = False
        self._truth_next = truth
        self.controller.open(target, video=video)

    def _failed(self, message: str) -> None:
        self.busy = False
        self.controller.error.emit(message)

    def _on_video_opened(self, _title: str) -> None:
        truth, self._truth_next = self._truth_next, None
        if truth is not None and not self.review.active and self.review.compare(truth):
            self.controller.message.emit(
                f"Ground truth: the video's own masks in {truth} (Review > Stop comparing if "
                "they are not)")

    def write_report(self, folder: Path) -> bool:
        """Write the report of the open video into `folder` (with its overlay video)."""
        c = self.controller
        opened = c.opened
        if opened is None or self.busy:
            c.message.emit("Open a video first" if opened is None else
                           "Wait for the running job to finish")
            return False
        project, annotation = opened.project, opened.annotation
        video = project.video
        inputs = ReviewInputs(
            video, annotation, f"the masks of {video} in {project.dataset.mask_dir(video)}",
            truth=self.review.truth, confidence=annotation.confidence,
            marks=dict(annotation.marks), colours=colour_table(annotation),
            categories={o.id: o.category for o in annotation.objects.values()})
        movie = safe_join(folder, f"{video}-overlay.mp4")
        frames = Path(project.frames.path)
        self.busy = True
        c.message.emit(f"Writing the review report into {folder}…")
        self.review.tasks.submit(lambda: write_review(inputs, frames, folder, movie),
                                 self._reported, self._failed)
        return True

    def _reported(self, paths: list[Path]) -> None:
        self.busy = False
        self.controller.message.emit("Wrote " + ", ".join(str(p) for p in paths))
