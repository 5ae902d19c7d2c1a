"""Change notifications of a VideoAnnotation, delivered to plain callbacks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ChangeEvent:
    """What one operation changed.

    `frames`: indices whose label maps or states changed; `objects`: ids whose pixels, states or
    details changed; `objects_changed`: the object list or an object's details (category,
    caption, colour) changed; `reason`: the operation ("paint", "erase", "set", "propagate",
    "object", "undo", "redo", "load").
    """

    reason: str
    frames: frozenset[int] = frozenset()
    objects: frozenset[int] = frozenset()
    objects_changed: bool = False


Listener = Callable[[ChangeEvent], None]
