"""Atomic file writes and output paths that cannot escape their folder."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from annotator.errors import AnnotatorError


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside `path`; it replaces `path` only if the block succeeds."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes only, got mode {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_open(path, "w") as handle:
        handle.write(text)


def safe_join(root: str | Path, *parts: str) -> Path:
    """Join names taken from dataset files under `root`, refusing any that lead outside it."""
    base = Path(root).resolve()
    for part in parts:
        if not part or "\x00" in part or Path(part).is_absolute() or "\\" in part:
            raise AnnotatorError(f"unsafe name {part!r} in a dataset file", root)
    candidate = base.joinpath(*parts).resolve()
    if candidate != base and base not in candidate.parents:
        raise AnnotatorError(f"name {'/'.join(parts)!r} would leave the output folder", root)
    return candidate
