"""Checking the fields of dataset JSON files before they are used: types, ranges, sizes.

Each check returns the value as the caller needs it, or raises AnnotatorError naming the file
and where in it the value sits (`where`, e.g. ``annotation 3: category_id``). JSON's numbers
arrive as int, float (NaN and infinities included: Python's parser takes them) or bool, and
people's files hold numbers as strings too; these checks say which is acceptable.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from annotator.errors import AnnotatorError
from annotator.video.images import check_pixels

MAX_OBJECT_ID = 254  # 0 is background, 255 void


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def as_dict(value: Any, path: Path | None, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AnnotatorError(f"{where} must be an object, not {_kind(value)}", path)
    return value


def as_list(value: Any, path: Path | None, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise AnnotatorError(f"{where} must be a list, not {_kind(value)}", path)
    return value


def as_str(value: Any, path: Path | None, where: str) -> str:
    if not isinstance(value, str):
        raise AnnotatorError(f"{where} must be text, not {_kind(value)}", path)
    return value


def as_int(
    value: Any, path: Path | None, where: str, low: int | None = None, high: int | None = None
) -> int:
    """A whole number (an integral float, or decimal digits in a string, are taken too) in
    `low`..`high`."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    if number is None:
        raise AnnotatorError(f"{where} must be a whole number, not {_shown(value)}", path)
    if low is not None and number < low and high is None:
        raise AnnotatorError(f"{where} is {number}; it must be at least {low}", path)
    if (low is not None and number < low) or (high is not None and number > high):
        span = f"{'' if low is None else low}..{'' if high is None else high}"
        raise AnnotatorError(f"{where} is {number}, outside {span}", path)
    return number


def as_number(value: Any, path: Path | None, where: str, limit: float | None = None) -> float:
    """A finite number (no bool, no string), at most `limit` in size."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise AnnotatorError(f"{where} must be a number, not {_shown(value)}", path)
    number = float(value)
    if not math.isfinite(number) or (limit is not None and abs(number) > limit):
        bound = "finite" if limit is None else f"finite and within {limit:g}"
        raise AnnotatorError(f"{where} is {number:g}; it must be {bound}", path)
    return number


def as_object_id(value: Any, path: Path | None, where: str) -> int:
    return as_int(value, path, where, 1, MAX_OBJECT_ID)


def image_size(height: Any, width: Any, path: Path | None, where: str) -> tuple[int, int]:
    """(height, width) of a frame that a file declares, within the pixel budget."""
    size = (as_int(height, path, f"{where} height", 1), as_int(width, path, f"{where} width", 1))
    check_pixels(size[1], size[0], path, where)
    return size


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{_kind(value)} {text[:40]}{'…' if len(text) > 40 else ''}"
