"""`vos-annotator convert SRC DST --to FORMAT`: rewrite a dataset in another layout.

Outputs (frames are hard-linked or copied beside the annotations, so DST is a whole dataset):

- ``lvos``: ``JPEGImages/<video>/``, ``Annotations/<video>/*.png``, ``<split>_meta.json``,
  ``<split>_expression_meta.json`` (when there are captions).
- ``davis``: the same under ``JPEGImages/480p/`` and ``Annotations/480p/``.
- ``youtube-vos-valid``: the ``lvos`` output plus ``Annotations_convert/<video>/`` (first
  appearance of each object only, as LVOS-api makes it) and a ``meta.json`` whose objects carry
  both the YouTube-VOS ``frames`` list and the LVOS ``frame_range`` (the LVOS evaluation
  toolkit reads ``meta.json``).
- ``lvvis``: ``JPEGImages/<video>/`` and ``<split>_instances.json`` (compressed RLE).
- ``labelme``: ``JPEGImages/<video>/<frame>.jpg`` with ``<frame>.json`` beside each
  annotated frame.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from annotator.errors import AnnotatorError
from annotator.formats import labelme, lvos, lvvis, youtube_vos
from annotator.formats.atomic import safe_join
from annotator.formats.categories import CategoryTable, read_categories
from annotator.formats.frames_out import write_frames
from annotator.formats.reader import read_video
from annotator.formats.video_labels import VideoLabels
from annotator.video.dataset import Dataset, open_dataset

FORMATS = ("lvos", "davis", "youtube-vos-valid", "lvvis", "labelme")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert a dataset to another layout",
        description="Read SRC (LVOS, DAVIS, LV-VIS, labelme, a frame folder or a video file) "
        "and write it to DST in the chosen layout.",
    )
    parser.add_argument("src", type=Path, help="dataset root, frame folder or video file")
    parser.add_argument("dst", type=Path, help="output folder (created if needed)")
    parser.add_argument("--to", required=True, choices=FORMATS, help="output layout")
    parser.add_argument(
        "--split",
        help="split name: picks SRC's split when it holds several, and names the output meta "
        "or instances files (default: SRC's split, else the DST folder name or 'train')",
    )
    parser.add_argument(
        "--categories",
        type=Path,
        help="categories file (JSON list of {id, name, partition} or one name a line); "
        "LV-VIS category ids come from it",
    )
    parser.add_argument("--video", action="append", help="only this video (repeatable)")
    parser.set_defaults(run=run)


def convert(
    src: Path,
    dst: Path,
    to: str,
    split: str | None = None,
    categories: Path | None = None,
    videos: list[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> list[str]:
    """Convert; returns the names of the videos written."""
    if to not in FORMATS:
        raise AnnotatorError(f"unknown output format {to!r} (choose from {', '.join(FORMATS)})")
    dataset = open_dataset(src, split=split)
    dst = Path(dst)
    if dst.resolve() == dataset.root.resolve():
        raise AnnotatorError("the output folder is the input dataset; choose another", dst)
    dst.mkdir(parents=True, exist_ok=True)
    chosen = videos or dataset.videos
    out_split = split or dataset.split or lvos.default_split(dst)
    if categories:
        table = read_categories(categories)
    elif dataset.instances_json is not None:  # keep LV-VIS ids and partitions
        table = lvvis.read_instances(dataset.instances_json).categories
    else:
        table = None
    writer = _Writer(dataset, dst, to, out_split, table)
    for name in chosen:
        writer.add(name)
        if log is not None:
            log(f"{name}: written")
    writer.finish()
    return list(chosen)


class _Writer:
    """Writes videos one by one; collects what the shared JSON files need at the end."""

    def __init__(
        self, dataset: Dataset, dst: Path, to: str, split: str, categories: CategoryTable | None
    ) -> None:
        self.dataset, self.dst, self.to, self.split = dataset, dst, to, split
        self.categories = categories
        self.youtube_meta: dict[str, dict] = {}
        # LVOS meta entries, merged into the split's meta files once at the end
        self.lvos_meta: dict[str, dict] = {}
        self.lvos_expressions: dict[str, dict | None] = {}
        self.lvvis_videos: dict[str, list[str]] = {}

    def _frames_folder(self, video: str) -> Path:
        parts = ("JPEGImages", "480p", video) if self.to == "davis" else ("JPEGImages", video)
        return safe_join(self.dst, *parts)

    def add(self, name: str) -> None:
        video = read_video(self.dataset, name)
        video.frame_files = write_frames(self.dataset, name, self._frames_folder(name))
        if self.to in ("lvos", "davis", "youtube-vos-valid"):
            davis = self.to == "davis"
            entry = lvos.write_video(self.dst, video, davis=davis, update_meta=False)
            self.lvos_meta[name] = entry
            self.lvos_expressions[name] = lvos.expression_entry(video)
        if self.to == "youtube-vos-valid":
            ranges = self.lvos_meta[name]["objects"]
            entry = youtube_vos.write_video(self.dst, video)
            for key, details in entry["objects"].items():  # one meta.json for both toolkits
                details["frame_range"] = ranges[key]["frame_range"]
            self.youtube_meta[name] = entry
        elif self.to == "labelme":
            self._write_labelme(video)
        elif self.to == "lvvis":
            self.lvvis_videos[name] = video.frame_files

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

    def finish(self) -> None:
        if self.lvos_meta:
            lvos.update_meta_files(self.dst, self.split, self.lvos_meta, self.lvos_expressions)
        if self.to == "youtube-vos-valid":
            youtube_vos.write_meta(self.dst, self.youtube_meta)
        elif self.to == "lvvis":
            path = self.dst / f"{self.split}_instances.json"
            lvvis.write_instances(path, self._lvvis_videos(), self.categories or CategoryTable())

    def _lvvis_videos(self) -> Iterator[VideoLabels]:
        """The videos again, read lazily one at a time while the instances JSON is built."""
        for name, files in self.lvvis_videos.items():
            video = read_video(self.dataset, name)
            video.frame_files = files
            yield video


def run(args: argparse.Namespace) -> int:
    def log(message: str) -> None:
        print(message, file=sys.stderr)

    written = convert(args.src, args.dst, args.to, args.split, args.categories, args.video, log)
    print(f"converted {len(written)} video(s) to {args.to} in {args.dst}")
    return 0
