"""Change notifications of a VideoAnnotation, delivered to plain callbacks."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class ChangeReason(enum.StrEnum):
    """The operation behind a change (its value also names the undo step it makes)."""

    ADD_OBJECT = "add object"
    REMOVE_OBJECT = "remove object"
    MERGE_OBJECTS = "merge objects"
    EDIT_OBJECT = "edit object"
    PAINT = "paint"
    ERASE = "erase"
    SET_FRAME = "set frame"
    SET_STATE = "set state"
    PROPAGATE = "propagate"
    MARK = "mark"
    UNDO = "undo"
    REDO = "redo"
    LOAD = "load"  # the whole annotation was (re)loaded, e.g. by a recovery


@dataclass(frozen=True)
class ChangeEvent:
    """What one operation changed.

    `frames`: indices whose label maps or states changed; `objects`: ids whose pixels, states or
    details changed; `objects_changed`: the object list or an object's details (category,
    caption, colour) changed; `reason`: the operation.
    """

    reason: ChangeReason
    frames: frozenset[int] = frozenset()
    objects: frozenset[int] = frozenset()
    objects_changed: bool = False


Listener = Callable[[ChangeEvent], None]
