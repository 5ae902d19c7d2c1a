"""The 'auto' engine choice when the checkpoint it found cannot be loaded: the weights-free
engine instead, with a warning, rather than a failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from annotator.engine.engine_info import EngineInfo
from annotator.errors import AnnotatorError

Engine = TypeVar("Engine")


def load_or_fall_back(
    load: Callable[[], tuple[Engine, EngineInfo]],
    fall_back: Callable[[], tuple[Engine, EngineInfo]],
    what: str,
) -> tuple[Engine, EngineInfo]:
    """`load()`, or when it fails with AnnotatorError (a checkpoint that is damaged, replaced
    or of the wrong layout) `fall_back()`, whose line then ends with a warning that names
    `what` failed to load and why."""
    try:
        return load()
    except AnnotatorError as exc:
        engine, info = fall_back()
        return engine, info.with_warning(f"{what} failed to load ({exc})")
