"""LVOS frame ids: 8-digit numbers that step by the dataset's id step.

LVOS stores its videos at 6 fps, sampled from 30 fps sources, and names each stored frame by
its index in the source: the first stored frame is ``00000001``, the next ``00000006``, and
so on (first id 1, step 5). The LVOS evaluation toolkit opens ``{id:08d}.png`` for the ids it
walks, so frames written in the LVOS layout carry such names.

A source whose frame names are already numbers with a constant step (DAVIS' ``00000``,
``00001``, ..., a video file's frame numbers, or LVOS' own ids) keeps its first id and step by
default; other names get LVOS's first id and step.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from annotator.errors import AnnotatorError

ID_WIDTH = 8
MAX_ID = 10**ID_WIDTH - 1
LVOS_FIRST_ID = 1
LVOS_ID_STEP = 5


@dataclass(frozen=True)
class IdScheme:
    """Frame i (0-based, in video order) gets id ``first + i * step``."""

    first: int = LVOS_FIRST_ID
    step: int = LVOS_ID_STEP

    def ids(self, count: int) -> list[str]:
        """The ids of `count` frames, as 8-digit names."""
        if self.first < 0 or self.step < 1:
            raise AnnotatorError(
                f"frame ids need a first id >= 0 and a step >= 1 (got {self.first}, {self.step})"
            )
        last = self.first + (count - 1) * self.step
        if last > MAX_ID:
            raise AnnotatorError(
                f"{count} frames from id {self.first} in steps of {self.step} end at {last}, "
                f"more than {ID_WIDTH} digits hold"
            )
        return [f"{self.first + i * self.step:0{ID_WIDTH}d}" for i in range(count)]


def lvos_id(name: str) -> int | None:
    """The number of an LVOS frame id (at least 8 digits, zero-padded to 8), else None."""
    if not (name.isascii() and name.isdigit()):
        return None
    number = int(name)
    return number if f"{number:0{ID_WIDTH}d}" == name else None


def source_scheme(names: Sequence[str]) -> IdScheme | None:
    """The first id and step of frame names that are numbers with a constant step, or None.

    A single numbered frame keeps its number with LVOS's step.
    """
    if not names or not all(n.isascii() and n.isdigit() for n in names):
        return None
    numbers = [int(n) for n in names]
    if len(numbers) == 1:
        return IdScheme(numbers[0], LVOS_ID_STEP)
    step = numbers[1] - numbers[0]
    if step < 1 or any(b - a != step for a, b in itertools.pairwise(numbers)):
        return None
    return IdScheme(numbers[0], step)


def lvos_names(names: Sequence[str], scheme: IdScheme | None = None) -> list[str]:
    """The LVOS ids of frames called `names`: from `scheme` when given, else the source's own
    numbering (see the module docstring)."""
    chosen = scheme or source_scheme(names) or IdScheme()
    return chosen.ids(len(names))
