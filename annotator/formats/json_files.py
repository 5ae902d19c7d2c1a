"""Reading and writing the JSON files of dataset layouts, with errors that name the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from annotator.errors import AnnotatorError
from annotator.formats.atomic import atomic_write_text


def read_json(path: Path) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AnnotatorError(f"cannot read ({exc.strerror or exc})", path) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnnotatorError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", path
        ) from exc
    except UnicodeDecodeError as exc:
        raise AnnotatorError(f"not UTF-8 text ({exc.reason})", path) from exc


def write_json(path: Path, data: Any, indent: int | None = None) -> None:
    """Write `data` atomically as UTF-8 JSON."""
    separators = None if indent else (",", ":")
    atomic_write_text(path, json.dumps(data, indent=indent, separators=separators) + "\n")


def expect(condition: bool, path: Path, message: str) -> None:
    """Stop with `message` about `path` unless `condition` holds (for structure checks)."""
    if not condition:
        raise AnnotatorError(message, path)
