"""What the propagators in models/ read frames through (the engine's FrameSequence fits it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

ShouldStop = Callable[[], bool]


class Frames(Protocol):
    """Random access to H x W x 3 uint8 RGB frames, read one at a time."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> np.ndarray: ...
