"""`weights download`: fetch a known checkpoint with progress, resume and a SHA-256 check.

The bytes go to `<file>.part` beside the target; a later attempt resumes from its length with
an HTTP Range request. Only a file whose size and sum match (when known) becomes the target.
Checkpoints without a published sum are only downloaded where the registry says so (SAM 2.1,
from Meta's HTTPS server): the first download's size and sum are recorded, and later downloads
must match them.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from annotator.engine.weights import (
    KNOWN,
    KnownWeights,
    canonical_name,
    read_registry,
    sha256_of,
    weights_dir,
    write_registry,
)
from annotator.errors import AnnotatorError

Progress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)
ShouldStop = Callable[[], bool]
_CHUNK = 1 << 20


def download_weights(name: str, progress: Progress | None = None, timeout: float = 30.0,
                     folder: str | Path | None = None,
                     should_stop: ShouldStop | None = None) -> Path:
    """Download known weights `name` into the weights `folder` (default: the user's); returns
    the file's path. `should_stop()` true stops it (what arrived is kept to resume from)."""
    known = KNOWN[canonical_name(name)]
    target = weights_dir(folder) / known.filename
    recorded = read_registry(folder).get(known.name, {})
    expected = known.sha256 or recorded.get("sha256")
    if expected is None and not known.record_first_sum:
        raise AnnotatorError(
            f"no published SHA-256 for {known.filename}, so it is not downloaded unchecked: "
            + _manual_hint(known, target)
        )
    size = known.size or recorded.get("size")
    if target.is_file() and (size is None or target.stat().st_size == size):
        return target
    path = download_file(known.url, target, size, expected, progress, timeout,
                         manual_hint=_manual_hint(known, target), should_stop=should_stop)
    if known.sha256 is None and expected is None:  # the first download: its sum is recorded
        entries = read_registry(folder)
        entries[known.name] = {"path": str(path), "size": path.stat().st_size,
                               "sha256": sha256_of(path)}
        write_registry(entries, folder)
    return path


def _manual_hint(known: KnownWeights, target: Path) -> str:
    return (f"download {known.url} yourself and put it at {target}, or run "
            f"`vos-annotator weights add FILE`")


def download_file(
    url: str,
    target: Path,
    size: int | None = None,
    sha256: str | None = None,
    progress: Progress | None = None,
    timeout: float = 30.0,
    manual_hint: str = "",
    should_stop: ShouldStop | None = None,
) -> Path:
    """Fetch `url` to `target`, resuming `<target>.part`; checks `size` and `sha256` if given.
    `should_stop()` true stops between blocks, keeping `<target>.part` for a later resume."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    have = partial.stat().st_size if partial.exists() else 0
    if size is not None and have > size:
        partial.unlink()
        have = 0
    if size is None or have < size:
        _fetch(url, partial, have, size, progress, timeout, manual_hint, should_stop)
    got = partial.stat().st_size
    if size is not None and got != size:
        raise AnnotatorError(f"download stopped at {got} of {size} bytes; run the same command "
                             "again to resume", partial)
    if sha256 is not None and (digest := sha256_of(partial)) != sha256:
        partial.unlink()
        raise AnnotatorError(f"downloaded file has SHA-256 {digest}, expected {sha256}; it was "
                             "deleted (a damaged or substituted download)", target)
    os.replace(partial, target)
    return target


class DownloadStopped(AnnotatorError):
    """The person stopped a download; the partial file stays for a resume."""


def _fetch(url: str, partial: Path, have: int, size: int | None, progress: Progress | None,
           timeout: float, hint: str, should_stop: ShouldStop | None) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "vos-annotator"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            resumed = have > 0 and response.status == 206
            if not resumed:
                have = 0  # the server sent the whole file: start over
            length = response.headers.get("Content-Length")
            total = size if size is not None else (have + int(length) if length else None)
            with open(partial, "ab" if resumed else "wb") as out:
                done = have
                while block := response.read(_CHUNK):
                    out.write(block)
                    done += len(block)
                    if progress is not None:
                        progress(done, total)
                    if should_stop is not None and should_stop():
                        raise DownloadStopped(f"download stopped at {done} bytes; what arrived "
                                              f"is kept in {partial} to resume from")
    except urllib.error.HTTPError as exc:
        raise AnnotatorError(f"the server answered {exc.code} {exc.reason} for {url}. {hint}") \
            from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AnnotatorError(f"cannot download {url} (offline? {reason}); what arrived is kept "
                             f"in {partial} for a later resume. {hint}") from exc
