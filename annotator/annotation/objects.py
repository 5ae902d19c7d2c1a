"""Objects of a video and the per-object state of each frame."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from annotator.formats.palette import object_colour

MIN_OBJECT_ID = 1
MAX_OBJECT_ID = 254


class FrameState(enum.StrEnum):
    """How an object's mask on one frame came about."""

    EMPTY = "empty"  # no mask of the object here from anyone
    KEYFRAME = "keyframe"  # made or fixed by a person
    PROPAGATED = "propagated"  # carried here by the propagator
    EDITED = "edited"  # propagated, then touched by a person

    @property
    def by_person(self) -> bool:
        """True for states a person made; propagation never overwrites these."""
        return self in (FrameState.KEYFRAME, FrameState.EDITED)


# Compact codes for per-frame state arrays (one uint8 per frame and object).
STATE_CODES: dict[FrameState, int] = {
    FrameState.EMPTY: 0,
    FrameState.KEYFRAME: 1,
    FrameState.PROPAGATED: 2,
    FrameState.EDITED: 3,
}
STATES_BY_CODE: tuple[FrameState, ...] = tuple(STATE_CODES)


@dataclass(frozen=True)
class ObjectInfo:
    """One annotated object: id = its pixel value in every label map."""

    id: int
    category: str = ""
    caption: str = ""
    colour: tuple[int, int, int] = field(default=(0, 0, 0))

    def __post_init__(self) -> None:
        check_object_id(self.id)
        if self.colour == (0, 0, 0):
            object.__setattr__(self, "colour", object_colour(self.id))


def check_object_id(object_id: int) -> int:
    if not isinstance(object_id, int) or not MIN_OBJECT_ID <= object_id <= MAX_OBJECT_ID:
        raise ValueError(f"object id must be {MIN_OBJECT_ID}..{MAX_OBJECT_ID}, got {object_id!r}")
    return object_id
