"""Dataset roots in the LVOS, DAVIS and LV-VIS layouts: list their videos and open any of them.

Layouts recognised by `open_dataset`:

- ``lvos``: ``root/JPEGImages/<video>/<frame>.jpg`` and ``root/Annotations/<video>/<frame>.png``
  (also YouTube-VOS); meta JSON files beside them.
- ``davis``: ``root/JPEGImages/480p/<seq>/`` and ``root/Annotations/480p/<seq>/`` (or another
  resolution folder such as ``Full-Resolution``).
- ``lvvis``: LV-VIS / YouTube-VIS: ``root/JPEGImages/<video>/`` with an instances JSON in
  ``root`` (``<split>_instances.json``, ``instances.json``, ``<split>.json``), or the released
  style ``root/JPEGImages/<split>/<video>/`` with ``root/<split>_instances.json``. Masks live in
  the JSON, so `mask_paths` lists PNGs only when an ``Annotations`` folder exists too.
- ``frames``: a bare folder of frames (one video named after the folder; annotations are
  written under that folder in the LVOS layout).
- ``video``: a video file (one video named after the file; annotations are written beside it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from annotator.errors import AnnotatorError, shown_path
from annotator.video.folder import list_frame_files
from annotator.video.opening import open_frames
from annotator.video.source import (
    DEFAULT_CACHE_BYTES,
    VIDEO_SUFFIXES,
    FrameSource,
    check_utf8_name,
    natural_key,
)

DAVIS_RESOLUTIONS = ("480p", "Full-Resolution", "1080p")
SPLIT_NAMES = ("train", "val", "valid", "test")


@dataclass
class Dataset:
    """One dataset root: its layout, its videos, and where each video's files are."""

    layout: str
    root: Path
    videos: list[str]
    frame_root: Path  # folder that holds one sub-folder of frames per video
    mask_root: Path  # folder that holds (or will hold) one sub-folder of PNG masks per video
    split: str | None = None
    instances_json: Path | None = None  # LV-VIS / YouTube-VIS annotations
    selected: str | None = None  # the video whose frame folder was opened, if one was
    _single: Path | None = field(default=None, repr=False)  # the frames folder or video file

    def _check(self, video: str) -> None:
        if video not in self.videos:
            raise AnnotatorError(
                f"no video called {shown_path(video)!r} in this {self.layout} dataset", self.root
            )
        check_utf8_name(self.frame_root / video)

    def frame_path(self, video: str) -> Path:
        """The folder of frames (or the video file) of `video`."""
        self._check(video)
        if self._single is not None:
            return self._single
        return self.frame_root / video

    def frames(self, video: str, cache_bytes: int = DEFAULT_CACHE_BYTES) -> FrameSource:
        return open_frames(self.frame_path(video), cache_bytes)

    def mask_dir(self, video: str) -> Path:
        """Folder where the label-map PNGs of `video` live (it may not exist yet)."""
        self._check(video)
        return self.mask_root / video

    def mask_paths(self, video: str) -> dict[str, Path]:
        """Frame name -> annotation PNG, for the frames that have one."""
        return png_files(self.mask_dir(video))

    def labelme_paths(self, video: str) -> dict[str, Path]:
        """Frame name -> labelme JSON beside the frame, for the frames that have one."""
        return files_by_stem(self.frame_path(video), ".json")


def files_by_stem(folder: Path, suffix: str) -> dict[str, Path]:
    """File stem -> path of the visible files in `folder` ending in `suffix` (any letter case),
    in natural order; {} when it is no folder."""
    if not folder.is_dir():
        return {}
    files = (
        path
        for path in folder.iterdir()
        if path.is_file() and path.suffix.lower() == suffix and not path.name.startswith(".")
    )
    found = sorted(files, key=lambda path: natural_key(path.name))
    for path in found:
        check_utf8_name(path)
    return {path.stem: path for path in found}


def png_files(folder: Path) -> dict[str, Path]:
    """File stem -> path of the visible PNG files in `folder`, in natural order."""
    return files_by_stem(folder, ".png")


def open_dataset(path: str | Path, split: str | None = None) -> Dataset:
    """Recognise the layout of `path` (see the module docstring) and list its videos."""
    path = Path(path)
    if not path.exists():
        raise AnnotatorError("no such file or folder", path)
    if path.is_file():
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            raise AnnotatorError("not a dataset folder nor a video file", path)
        return Dataset(
            "video",
            path.parent,
            [path.stem],
            path.parent,
            path.parent / "Annotations",
            _single=path,
        )
    images = path / "JPEGImages"
    if images.is_dir():
        return _open_with_images(path, images, split)
    nested = [name for name in SPLIT_NAMES if (path / name / "JPEGImages").is_dir()]
    if nested:
        chosen = _choose_split(path, nested, split)
        return open_dataset(path / chosen, split=chosen)
    if list_frame_files(path):
        enclosing = _enclosing_dataset(path, split)
        if enclosing is not None:
            return enclosing
        return Dataset("frames", path, [path.name], path, path / "Annotations", _single=path)
    raise AnnotatorError(
        "not a dataset: expected JPEGImages/<video>/ (LVOS, LV-VIS), JPEGImages/480p/<seq>/ "
        "(DAVIS) or a folder of frames",
        path,
    )


def _enclosing_dataset(folder: Path, split: str | None) -> Dataset | None:
    """The dataset whose JPEGImages holds `folder` (one video's frames), that video selected."""
    parent = folder.resolve().parent
    if parent.name == "JPEGImages":
        images = parent
    elif parent.name in (*DAVIS_RESOLUTIONS, *SPLIT_NAMES) and parent.parent.name == "JPEGImages":
        images = parent.parent
        if parent.name in SPLIT_NAMES:
            split = split or parent.name
    else:
        return None
    dataset = _open_with_images(images.parent, images, split)
    if folder.name not in dataset.videos:
        return None
    dataset.selected = folder.name
    return dataset


def _choose_split(path: Path, present: list[str], split: str | None) -> str:
    if split is None:
        return next((name for name in ("val", "valid") if name in present), present[0])
    if split not in present:
        raise AnnotatorError(f"no split {split!r} here (found {', '.join(present)})", path)
    return split


def _subfolders(folder: Path) -> list[str]:
    names = [p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(names, key=natural_key)


def _open_with_images(root: Path, images: Path, split: str | None) -> Dataset:
    for resolution in DAVIS_RESOLUTIONS:
        if (images / resolution).is_dir():
            return Dataset(
                "davis",
                root,
                _subfolders(images / resolution),
                images / resolution,
                root / "Annotations" / resolution,
                split=split,
            )
    split_folders = [name for name in _subfolders(images) if name in SPLIT_NAMES]
    if split_folders:
        chosen = _choose_split(images, split_folders, split)
        instances = find_instances_json(root, chosen)
        frame_root = images / chosen
        return Dataset(
            "lvvis",
            root,
            _subfolders(frame_root),
            frame_root,
            root / "Annotations" / chosen,
            split=chosen,
            instances_json=instances,
        )
    instances = find_instances_json(root, split)
    if instances is None and split is not None:
        _refuse_other_splits(root, split)
    videos = _subfolders(images)
    if instances is not None:
        return Dataset(
            "lvvis",
            root,
            videos,
            images,
            root / "Annotations",
            split=split or _split_from_json_name(instances),
            instances_json=instances,
        )
    return Dataset("lvos", root, videos, images, root / "Annotations", split=split)


def find_instances_json(root: Path, split: str | None) -> Path | None:
    """The LV-VIS / YouTube-VIS instances JSON in `root`, if there is one."""
    if split:
        candidates = [f"{split}_instances.json", f"{split}.json", "instances.json"]
    else:
        candidates = ["instances.json"] + [f"{name}_instances.json" for name in SPLIT_NAMES]
    for name in candidates:
        if (root / name).is_file():
            return root / name
    return None


def _refuse_other_splits(root: Path, split: str) -> None:
    """`split` was asked for where the frames are shared (JPEGImages/<video>/) but only other
    splits' instances files are there: reading on would find no masks, in silence."""
    others = sorted((path for path in root.glob("*_instances.json")
                     if path.is_file() and not path.name.startswith(".")),
                    key=lambda path: natural_key(path.name))
    if others:
        names = ", ".join(shown_path(path.name) for path in others)
        suggestions = " or ".join(f"--split {shown_path(path.name[:-15])}" for path in others)
        raise AnnotatorError(
            f"no {split}_instances.json here, only {names}: the masks of split {split!r} are "
            f"in none of them (give {suggestions}, or rename the file)",
            root,
        )


def _split_from_json_name(path: Path) -> str | None:
    stem = path.stem
    return stem[: -len("_instances")] if stem.endswith("_instances") else None
