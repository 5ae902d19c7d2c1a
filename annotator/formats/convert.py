"""Rewrite a dataset (or a frame folder, a video file, labelme files) in another layout.

Outputs (see docs/FORMATS.md for each layout's conventions and the tools that read it):

- ``lvos``: ``JPEGImages/<video>/``, ``Annotations/<video>/*.png``, ``<split>_meta.json``,
  ``<split>_expression_meta.json`` (when there are captions). Frames are named by LVOS ids
  (`frame_ids`); where that renames them, the meta keeps each frame's former name.
- ``davis``: ``JPEGImages/480p/``, ``Annotations/480p/``, ``ImageSets/2017/<split>.txt`` and,
  for a DAVIS 2016 split, ``ImageSets/480p/<split>.txt``.
- ``youtube-vos-valid``: the ``lvos`` output plus ``Annotations_convert/<video>/`` (first
  appearance of each object only, as LVOS-api makes it) and a YouTube-VOS ``meta.json``.
- ``lvvis``: ``JPEGImages/<video>/`` (unless frames are left out) and
  ``<split>_instances.json`` (compressed RLE).
- ``lvvis-results``: ``results.json``, a model's masks in the LV-VIS results format.
- ``labelme``: ``JPEGImages/<video>/<frame>.jpg`` with ``<frame>.json`` beside each
  annotated frame.

Every output that holds frames, but LVOS's, gives them back the names they had before an LVOS
conversion renamed them; an LV-VIS JSON without frames keeps the names of the frames it refers
to, and results take the names their ground truth uses. A video's own output folders must be
empty, unless `replace` is asked for (`output_folders`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotator.errors import AnnotatorError
from annotator.formats import (
    davis,
    labelme,
    lvos,
    lvvis,
    lvvis_results,
    output_folders,
    youtube_vos,
)
from annotator.formats.atomic import safe_join
from annotator.formats.categories import CategoryTable, read_categories
from annotator.formats.frame_ids import IdScheme, lvos_id, lvos_names
from annotator.formats.frames_out import write_frames
from annotator.formats.names import plain_name
from annotator.formats.reader import read_video
from annotator.formats.video_labels import VideoLabels
from annotator.video.dataset import Dataset, open_dataset

FORMATS = ("lvos", "davis", "youtube-vos-valid", "lvvis", "lvvis-results", "labelme")
LVOS_NAMED = ("lvos", "youtube-vos-valid")  # outputs whose frames carry LVOS ids
Log = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    """How to convert: `ids` numbers frames in the LVOS outputs (default: the source's own
    numbering, see `frame_ids`); `frames` False leaves frames out of an LV-VIS output (its
    file names then refer to the source's frames); `replace` rewrites videos that an earlier
    run wrote; `reference` (a ground-truth instances JSON) and `scores` (a scores JSON) are
    for ``lvvis-results``."""

    ids: IdScheme | None = None
    frames: bool = True
    replace: bool = False
    reference: Path | None = None
    scores: Path | None = None


@dataclass
class Converted:
    """What a conversion wrote: the videos, the files they share (meta, lists, JSON), and
    notes on what an official tool will not manage with the output."""

    videos: list[str]
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def convert(
    src: Path,
    dst: Path,
    to: str,
    split: str | None = None,
    categories: Path | None = None,
    videos: list[str] | None = None,
    log: Log | None = None,
    options: Options | None = None,
) -> Converted:
    """Convert the chosen videos (default: all) of `src` into `dst` in layout `to`."""
    options = options or Options()
    if to not in FORMATS:
        raise AnnotatorError(f"unknown output format {to!r} (choose from {', '.join(FORMATS)})")
    if not options.frames and to != "lvvis":
        raise AnnotatorError(f"{to} output needs its frames; only lvvis can leave them out")
    dataset = open_dataset(src, split=split)
    dst = Path(dst)
    if dst.resolve() == dataset.root.resolve():
        raise AnnotatorError("the output folder is the input dataset; choose another", dst)
    chosen = videos or dataset.videos
    out_split = plain_name(split or dataset.split or lvos.default_split(dst), "split")
    writer = _Writer(dataset, dst, to, out_split, _category_table(dataset, categories), options)
    output_folders.prepare(
        [f for name in chosen for f in writer.folders(name)],
        [dataset.frame_path(name) for name in chosen] + [dataset.mask_dir(name) for name in chosen],
        options.replace,
    )
    dst.mkdir(parents=True, exist_ok=True)
    for name in chosen:
        writer.add(name)
        if log is not None:
            log(f"{name}: written")
    files = writer.finish()
    return Converted(list(chosen), files, writer.notes)


def _category_table(dataset: Dataset, categories: Path | None) -> CategoryTable:
    if categories:
        return read_categories(categories)
    if dataset.instances_json is not None:  # keep LV-VIS ids and partitions
        return lvvis.read_instances(dataset.instances_json).categories
    return CategoryTable()


def output_video(video: VideoLabels, to: str, options: Options) -> VideoLabels:
    """The video with the frame names it gets in layout `to` (see the module docstring)."""
    if to in LVOS_NAMED:
        if options.ids is None and all(lvos_id(n) is not None for n in video.frame_names):
            return video  # already LVOS ids
        return video.renamed(lvos_names(video.frame_names, options.ids))
    if to == "lvvis-results" or not options.frames:
        return video  # names as the source has them (results match them to the truth's)
    return video.restored()


class _Writer:
    """Writes videos one by one; collects what the shared files need at the end."""

    def __init__(
        self,
        dataset: Dataset,
        dst: Path,
        to: str,
        split: str,
        categories: CategoryTable,
        options: Options,
    ) -> None:
        self.dataset, self.dst, self.to, self.split = dataset, dst, to, split
        self.categories, self.options = categories, options
        self.notes: list[str] = []
        self.youtube_meta: dict[str, dict[str, Any]] = {}
        # LVOS meta entries, merged into the split's meta files once at the end
        self.lvos_meta: dict[str, dict[str, Any]] = {}
        self.lvos_expressions: dict[str, dict[str, Any] | None] = {}
        self.davis_frames: dict[str, list[tuple[str, str]]] = {}
        self.lvvis_videos: dict[str, list[str] | None] = {}

    def _frames_folder(self, video: str) -> Path:
        parts = ("JPEGImages", "480p", video) if self.to == "davis" else ("JPEGImages", video)
        return safe_join(self.dst, *parts)

    def folders(self, video: str) -> list[Path]:
        """The folders of `video` in the output."""
        if self.to == "lvvis-results":
            return []
        found = [self._frames_folder(video)] if self.options.frames else []
        if self.to in ("lvos", "davis", "youtube-vos-valid"):
            found.append(lvos.mask_folder(self.dst, video, davis=self.to == "davis"))
        if self.to == "youtube-vos-valid":
            found.append(safe_join(self.dst, youtube_vos.CONVERT_FOLDER, video))
        return found

    def _read(self, name: str) -> VideoLabels:
        return output_video(read_video(self.dataset, name), self.to, self.options)

    def add(self, name: str) -> None:
        video = self._read(name)
        if self.to in ("lvvis", "lvvis-results"):
            self.lvvis_videos[name] = None
            if self.options.frames and self.to == "lvvis":
                self.lvvis_videos[name] = self._write_frames(video)
            return
        video.frame_files = self._write_frames(video)
        if self.to == "labelme":
            self._write_labelme(video)
            return
        davis_layout = self.to == "davis"
        tracker = lvos.write_masks(lvos.mask_folder(self.dst, name, davis_layout), video)
        self.lvos_meta[name] = lvos.meta_entry(video, tracker)
        self.lvos_expressions[name] = lvos.expression_entry(video)
        if davis_layout:
            self.davis_frames[name] = [
                (video.file_name(i), f"{video.frame_names[i]}.png") for i in tracker.annotated
            ]
            self.notes += davis_notes(video, len(tracker.annotated))
        else:
            self.notes += lvos.toolkit_notes(video, tracker)
        if self.to == "youtube-vos-valid":
            self.youtube_meta[name] = youtube_vos.write_video(self.dst, video, tracker)

    def _write_frames(self, video: VideoLabels) -> list[str]:
        return write_frames(
            self.dataset, video.name, self._frames_folder(video.name), video.frame_names
        )

    def _write_labelme(self, video: VideoLabels) -> None:
        folder = self._frames_folder(video.name)
        position = {n: i for i, n in enumerate(video.frame_names)}
        for name in video.annotated():
            labelme.write_frame(
                safe_join(folder, f"{name}.json"),
                video.labels[name],
                video.objects,
                video.file_name(position[name]),
            )

    def finish(self) -> list[Path]:
        """Write the shared files; returns them."""
        written: list[Path] = []
        if self.lvos_meta:
            lvos.update_meta_files(
                self.dst, self.split, self.lvos_meta, self.lvos_expressions, replace=True
            )
            written.append(lvos.meta_path(self.dst, self.split))
        if self.to == "youtube-vos-valid":
            written.append(youtube_vos.write_meta(self.dst, self.youtube_meta))
        elif self.to == "davis":
            written += davis.write_image_sets(self.dst, self.split, self.davis_frames)
        elif self.to == "lvvis":
            path = self.dst / f"{self.split}_instances.json"
            lvvis.write_instances(path, self._lvvis_videos(), self.categories)
            self.notes += lvvis_notes(self.categories)
            written.append(path)
        elif self.to == "lvvis-results":
            written.append(self._write_results())
        return written

    def _write_results(self) -> Path:
        reference = None
        if self.options.reference is not None:
            reference = lvvis.read_instances(self.options.reference)
        scores = None
        if self.options.scores is not None:
            scores = lvvis_results.read_scores(self.options.scores)
        path = self.dst / lvvis_results.RESULTS_FILE
        lvvis_results.write_model_results(
            path, self._lvvis_videos(), self.categories, scores, reference
        )
        return path

    def _lvvis_videos(self) -> Iterator[VideoLabels]:
        """The videos again, read lazily one at a time while the JSON is built."""
        for name, files in self.lvvis_videos.items():
            video = self._read(name)
            if files is not None:
                video.frame_files = files
            yield video


def davis_notes(video: VideoLabels, annotated: int) -> list[str]:
    """What the DAVIS 2017 toolkit will not manage with this video as ground truth."""
    notes = []
    if annotated < len(video.frame_names):
        notes.append(
            f"{video.name}: {len(video.frame_names) - annotated} frame(s) have no mask; the "
            "DAVIS 2017 toolkit needs one for every frame of a ground-truth sequence"
        )
    if any(not video.file_name(i).endswith(".jpg") for i in range(len(video.frame_names))):
        notes.append(f"{video.name}: frames are not .jpg files; the DAVIS 2017 toolkit lists *.jpg")
    return notes


def lvvis_notes(categories: CategoryTable) -> list[str]:
    """What LV-VIS's evaluation code will not manage with these categories."""
    entries = categories.to_json()
    notes = []
    if [c["id"] for c in entries] != list(range(1, len(entries) + 1)):
        notes.append(
            "category ids are not 1..N: LV-VIS's evaluation indexes its base/novel split by id"
        )
    base = [c for c in entries if c["partition"] in (0, 1)]
    if not base or len(base) == len(entries):
        notes.append(
            "all categories are base (partition 0, 1) or all novel (2, 3): LV-VIS's evaluation "
            "summary needs both; give partitions in a categories file"
        )
    return notes


def export_video(src: Path, video: str, split: str | None, target: Path, to: str) -> Path:
    """Export one video of `src` into the folder `target` as the app's Export menu does: the
    video's earlier export there is replaced and an LV-VIS JSON refers to the source's frames
    instead of copying them. Returns the file (or, for labelme, the folder) to show."""
    options = Options(frames=to != "lvvis", replace=True)
    done = convert(src, target, to, split=split, videos=[video], options=options)
    if to == "labelme":
        return safe_join(target, "JPEGImages", video)
    return done.files[-1]
