"""The one error type a person sees: a message that names the file and what is wrong."""

from __future__ import annotations

from pathlib import Path


class AnnotatorError(Exception):
    """A problem with the person's input or files, worded for them; never a programming bug."""

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path is not None else message)
