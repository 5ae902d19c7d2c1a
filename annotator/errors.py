"""The one error type a person sees: a message that names the file and what is wrong."""

from __future__ import annotations

import errno
import os
from pathlib import Path

# What a failed file operation means for the person, by errno (else the system's own words).
_OS_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EEXIST: "exists and is not a folder",
    errno.ENOTDIR: "a file stands where a folder is needed",
    errno.EISDIR: "is a folder, not a file",
}


def shown_path(path: str | Path) -> str:
    """`path` as printable text: bytes of a name that is not UTF-8 appear as \\x.. escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


class AnnotatorError(Exception):
    """A problem with the person's input or files, worded for them; never a programming bug."""

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.message = message  # without the path
        super().__init__(f"{shown_path(self.path)}: {message}" if self.path is not None
                         else message)


def describe_os_error(exc: OSError) -> str:
    """One line for a failed file operation: the file(s), then what the failure means."""
    reason = _OS_REASONS.get(exc.errno or 0) or exc.strerror or str(exc)
    names = [shown_path(n) for n in (exc.filename, exc.filename2) if n is not None]
    return f"{' -> '.join(names)}: {reason}" if names else reason
