"""Reading and writing the JSON files of dataset layouts, with errors that name the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from annotator.errors import AnnotatorError, shown_path
from annotator.formats.atomic import atomic_write_text


def read_json(path: Path) -> Any:
    """The data of a UTF-8 JSON file; AnnotatorError naming the file when it is not one."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AnnotatorError(f"cannot read ({exc.strerror or exc})", path) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnnotatorError(
            f"not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})", path
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnnotatorError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", path
        ) from exc
    except (ValueError, RecursionError) as exc:  # a number of 5,000 digits, nesting too deep
        raise AnnotatorError(f"not valid JSON ({exc})", path) from exc


def write_json(path: Path, data: Any, indent: int | None = None) -> None:
    """Write `data` atomically as UTF-8 JSON that strict parsers accept: a text holding a
    name that is not valid UTF-8 (kept by Python as lone surrogates) is refused, not written
    as an escape no strict parser takes."""
    _check_text(data, path)
    separators = None if indent else (",", ":")
    atomic_write_text(path, json.dumps(data, indent=indent, separators=separators) + "\n")


def _check_text(data: Any, path: Path) -> None:
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending += item.keys()
            pending += item.values()
        elif isinstance(item, list | tuple):
            pending += item
        elif isinstance(item, str) and not item.isascii():
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise AnnotatorError(
                    f"cannot write the name {shown_path(item)!r}: it is not valid UTF-8 (a file "
                    "name in another encoding?); rename the file",
                    path,
                ) from None


def expect(condition: bool, path: Path, message: str) -> None:
    """Stop with `message` about `path` unless `condition` holds (for structure checks)."""
    if not condition:
        raise AnnotatorError(message, path)
