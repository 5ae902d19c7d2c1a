"""A video's annotation as plain data: what every format reads and writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from annotator.formats.masks import read_label_map


@dataclass
class ObjectMeta:
    """An object's details as the dataset files know them."""

    id: int
    category: str = ""
    caption: str = ""


@dataclass
class VideoLabels:
    """One video: frame names, size, the label maps of annotated frames, and its objects.

    `labels` maps frame name -> H x W uint8 label map for the frames that have an annotation;
    it may read lazily (see `LazyLabels`) so that long videos are never all in memory.
    `frame_files` are the frames' file names (with suffix) where known. `source_names` maps a
    frame name to the name the frame had before a writer renamed it (LVOS ids), where they
    differ, so that a later conversion can give the frames their names back.
    """

    name: str
    frame_names: list[str]
    height: int
    width: int
    labels: Mapping[str, np.ndarray]
    objects: dict[int, ObjectMeta] = field(default_factory=dict)
    frame_files: list[str] | None = None
    attributes: list[str] = field(default_factory=list)
    source_names: dict[str, str] = field(default_factory=dict)

    def file_name(self, index: int) -> str:
        if self.frame_files is not None:
            return self.frame_files[index]
        return f"{self.frame_names[index]}.jpg"

    def annotated(self) -> list[str]:
        """Names of the annotated frames, in video order."""
        return [name for name in self.frame_names if name in self.labels]

    def renamed(self, names: list[str]) -> VideoLabels:
        """The same video with frame i called ``names[i]`` (files keep their suffix); label maps
        are read through to this video's, and `source_names` still lead to the first names."""
        if len(names) != len(self.frame_names) or len(set(names)) != len(names):
            raise ValueError(f"need {len(self.frame_names)} distinct names, got {len(names)}")
        old_of = dict(zip(names, self.frame_names, strict=True))
        files = [
            name + Path(self.file_name(i)).suffix for i, name in enumerate(names)
        ]
        source = {new: self.source_names.get(old, old) for new, old in old_of.items()}
        labels = self.labels
        return VideoLabels(
            self.name,
            list(names),
            self.height,
            self.width,
            LazyLabels(
                [new for new, old in old_of.items() if old in labels],
                lambda new: labels[old_of[new]],
            ),
            self.objects,
            files,
            self.attributes,
            {new: old for new, old in source.items() if new != old},
        )

    def restored(self) -> VideoLabels:
        """The video with the names it had before it was renamed (itself when never renamed)."""
        if not self.source_names:
            return self
        return self.renamed([self.source_names.get(n, n) for n in self.frame_names])


class LazyLabels(Mapping[str, np.ndarray]):
    """Frame name -> label map, computed on access by `load(key)`; nothing is kept."""

    def __init__(self, keys: list[str], load: Callable[[str], np.ndarray]) -> None:
        self._keys = list(keys)
        self._key_set = set(keys)
        self._load = load

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._key_set:
            raise KeyError(key)
        return self._load(key)

    def __contains__(self, key: object) -> bool:
        return key in self._key_set

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def png_labels(paths: Mapping[str, Path], size: tuple[int, int]) -> LazyLabels:
    """Lazily read label-map PNGs (frame name -> path), each checked against `size`."""
    return LazyLabels(list(paths), lambda name: read_label_map(paths[name], size))


def object_presence(labels: np.ndarray) -> np.ndarray:
    """Object ids (1..254) with pixels in `labels`, ascending."""
    counts = np.bincount(labels.ravel(), minlength=256)[1:255]
    return np.flatnonzero(counts) + 1
