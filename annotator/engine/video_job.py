"""Propagating one whole video from keyframe masks into a folder of palette PNGs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from annotator.engine.propagation import (
    Direction,
    PropagationRequest,
    PropagationSession,
    select_keyframes,
    take_objects,
)
from annotator.errors import AnnotatorError
from annotator.formats.atomic import safe_join
from annotator.formats.masks import read_label_map, write_label_map
from annotator.video.dataset import png_files
from annotator.video.source import FrameSource
from models.protocols import Propagator, ShouldStop

MIN_SIDE = 32  # pixels: the engines' flow and feature strides need at least this much


def check_frame_size(source: FrameSource) -> None:
    """AnnotatorError, naming the video, when its frames are too small to propagate through."""
    height, width = source.size
    if min(height, width) < MIN_SIDE:
        raise AnnotatorError(
            f"frames are {width}x{height} pixels; propagation needs at least "
            f"{MIN_SIDE}x{MIN_SIDE}",
            source.path,
        )


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
    direction: Direction = "both",
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: ShouldStop | None = None,
    object_ids: tuple[int, ...] | None = None,
) -> int:
    """Write one mask per frame to `out`: keyframes as given, the rest propagated from the
    first keyframe (the last going backward); frames no pass reaches are written empty.

    With `object_ids`, only those objects are propagated: on the other frames, the other
    objects keep what a mask already in `out` holds, and a frame no pass reaches keeps its
    mask there. Returns how many files were written.
    """
    if not keyframes:
        raise AnnotatorError("no keyframes to propagate from", out)
    check_frame_size(source)
    chosen = select_keyframes(keyframes, object_ids)
    if not chosen:
        raise AnnotatorError(
            f"no keyframe mask holds object {', '.join(map(str, object_ids or ()))}", out)
    out.mkdir(parents=True, exist_ok=True)
    written: set[int] = set()

    def path_of(index: int) -> Path:
        return safe_join(out, f"{source.names[index]}.png")

    def save(index: int, labels: np.ndarray) -> None:
        path = path_of(index)
        if object_ids is not None and index not in keyframes and path.exists():
            labels = take_objects(read_label_map(path, source.size), labels, object_ids)
        write_label_map(path, labels)
        written.add(index)

    for index, labels in keyframes.items():
        save(index, labels)
    start = max(chosen) if direction == "backward" else min(chosen)
    request = PropagationRequest(start, direction, object_ids=object_ids)
    for result in PropagationSession(propagator).run(source, chosen, request, should_stop,
                                                     on_progress):
        save(result.index, result.labels)
    if should_stop is None or not should_stop():
        empty = np.zeros(source.size, dtype=np.uint8)
        for index in range(len(source)):
            if index not in written and (object_ids is None or not path_of(index).exists()):
                save(index, empty)
    return len(written)
