"""Atomic file writes, the cleaning of their leftovers, and output paths that cannot escape.

A write goes to a hidden temporary file beside its target, named
``.<target name>.<writer's pid>.<8 hex digits>.vosa-tmp``, which replaces the target only once
it is complete and synced. Permissions follow the rule of editors and of `open()`: a file that
replaces an existing one keeps that file's permission bits (an in-place save of a shared
dataset's 0644 masks leaves them 0644); a new file gets 0666 less the user's umask (the kernel
applies the umask, and default ACLs, when the temporary is created).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from annotator.errors import AnnotatorError

TEMP_SUFFIX = ".vosa-tmp"
# A temporary whose writer still runs is left alone unless it is this old (a reused pid).
STALE_TEMP_AGE_S = 24 * 3600
_TEMP_NAME = re.compile(r"^\..+\.(?P<pid>\d+)\.[0-9a-f]{8}" + re.escape(TEMP_SUFFIX) + "$")
_NAME_ROOM = 200  # characters of the target's name kept in its temporary's name


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside `path`; it replaces `path` only if the block succeeds."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes only, got mode {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = _create_temporary(target)
    except OSError as exc:  # a read-only folder: name the file that could not be written
        raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as handle:
            kept = _permission_bits(target)
            if kept is not None:
                os.chmod(tmp, kept)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename in (None, str(tmp)):
            # a full or read-only disk: name the file being written, not its temporary
            raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_open(path, "w") as handle:
        handle.write(text)


def _temporary_name(target: Path) -> Path:
    name = f".{target.name[:_NAME_ROOM]}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    return target.parent / name


def _create_temporary(target: Path) -> tuple[int, Path]:
    """A new temporary beside `target`, created with mode 0666 so that the umask applies."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = _temporary_name(target)
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # 1 in 4 billion: draw another name
            continue


def keep_copy(path: Path, copy: Path) -> None:
    """Make `copy` hold what `path` holds now, replacing it atomically (a hard link, else a
    copy); nothing when `path` is no file. The file at `path` may then be replaced safely."""
    if not path.is_file() or (copy.exists() and os.path.samefile(path, copy)):
        return
    link = _temporary_name(copy)
    try:
        os.link(path, link)
    except OSError:  # a file system without hard links
        with atomic_open(copy, "wb") as out, open(path, "rb") as original:
            shutil.copyfileobj(original, out)
        return
    try:
        os.replace(link, copy)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(link)
        raise


def keep_aside(path: Path, why: str, move: bool = False) -> Path:
    """Keep the file at `path` under a new name beside it that no one else takes,
    ``<name>.<why>-<date>-<time>`` (a hard link, else a copy, or with `move` a rename);
    returns that name."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for attempt in range(1000):
        suffix = f"-{attempt}" if attempt else ""
        target = path.with_name(f"{path.name}.{why}-{stamp}{suffix}")
        if target.exists():
            continue
        if move:
            os.replace(path, target)
        else:
            try:
                os.link(path, target)
            except OSError:  # a file system without hard links
                shutil.copyfile(path, target)
        return target
    raise AnnotatorError(f"too many copies of {path.name} kept aside: delete the old ones",
                         path.parent)


def _permission_bits(target: Path) -> int | None:
    """The rwx bits of the file `target` replaces; None when there is none."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode) & 0o777
    except (FileNotFoundError, NotADirectoryError):
        return None


def remove_stale_temporaries(*folders: str | Path) -> list[Path]:
    """Delete the temporaries that writes killed midway left in `folders`; returns them.

    Only files named as `atomic_open` names them are touched, and only when the process that
    wrote one is gone (or the file is older than `STALE_TEMP_AGE_S`); folders that do not
    exist are skipped.
    """
    removed = []
    now = time.time()
    for folder in map(Path, folders):
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            match = _TEMP_NAME.match(entry.name)
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            with contextlib.suppress(FileNotFoundError):
                age = now - entry.stat().st_mtime
                if _writer_runs(int(match["pid"])) and age < STALE_TEMP_AGE_S:
                    continue
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _writer_runs(pid: int) -> bool:
    """Whether process `pid` may still be writing (assumed on Windows: no probe is harmless)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


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
