"""Propagation results as (frame index, label map) pairs, the shape many tests compare."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from models.protocols import PropagatedFrame


def pairs(frames: Iterable[PropagatedFrame]) -> Iterator[tuple[int, np.ndarray]]:
    for frame in frames:
        yield frame.index, frame.labels
