"""Propagating one whole video from keyframe masks into a folder of palette PNGs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from annotator.engine.propagation import PropagationSession
from annotator.engine.protocols import Propagator, ShouldStop
from annotator.errors import AnnotatorError
from annotator.formats.atomic import safe_join
from annotator.formats.masks import read_label_map, write_label_map
from annotator.video.dataset import png_files
from annotator.video.source import FrameSource


def read_keyframes(paths: dict[str, Path], source: FrameSource) -> dict[int, np.ndarray]:
    """Label maps of mask files keyed by frame name, keyed by the index of their frame."""
    keyframes: dict[int, np.ndarray] = {}
    for name, path in paths.items():
        if name not in source.names:
            raise AnnotatorError("mask is named after no frame of the video", path)
        keyframes[source.index_of(name)] = read_label_map(path, expected_size=source.size)
    return keyframes


def keyframe_files(folder: Path) -> dict[str, Path]:
    """Frame name -> PNG for the keyframe masks in `folder`."""
    if not folder.is_dir():
        raise AnnotatorError("the keyframe mask folder does not exist", folder)
    files = png_files(folder)
    if not files:
        raise AnnotatorError("no keyframe masks (PNG files named like the frames) in it", folder)
    return files


def propagate_to_folder(
    source: FrameSource,
    keyframes: dict[int, np.ndarray],
    out: Path,
    propagator: Propagator,
    direction: str = "both",
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: ShouldStop | None = None,
) -> int:
    """Write one mask per frame to `out`: keyframes as given, the rest propagated (frames no
    pass reaches are written empty). Returns how many files were written."""
    if not keyframes:
        raise AnnotatorError("no keyframes to propagate from", out)
    out.mkdir(parents=True, exist_ok=True)
    written: set[int] = set()

    def save(index: int, labels: np.ndarray) -> None:
        write_label_map(safe_join(out, f"{source.names[index]}.png"), labels)
        written.add(index)

    for index, labels in keyframes.items():
        save(index, labels)
    start = max(keyframes) if direction == "backward" else min(keyframes)
    session = PropagationSession(propagator)
    for index, labels in session.run(
        source, keyframes, start, direction, should_stop=should_stop, on_progress=on_progress
    ):
        save(index, labels)
    if should_stop is None or not should_stop():
        empty = np.zeros(source.size, dtype=np.uint8)
        for index in range(len(source)):
            if index not in written:
                save(index, empty)
    return len(written)
