"""Shared pieces of the hostile-input tests: small datasets cut from a dev sequence, a PNG that
declares more pixels than it holds, and a child process for inputs that reach pycocotools
(a segfault there must fail one test, not kill pytest)."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def lvos_dataset(davis_root: Path, root: Path, sequence: str = "bear", frames: int = 3) -> Path:
    """`root` as an LVOS dataset holding the first `frames` frames of a DAVIS dev sequence and
    their masks (frames hard-linked where possible, so they stay cheap)."""
    for kind, suffix in (("JPEGImages", ".jpg"), ("Annotations", ".png")):
        source = davis_root / kind / "480p" / sequence
        target = root / kind / sequence
        target.mkdir(parents=True)
        for path in sorted(source.glob(f"*{suffix}"))[:frames]:
            try:
                os.link(path, target / path.name)
            except OSError:
                (target / path.name).write_bytes(path.read_bytes())
    return root


def png_declaring(width: int, height: int) -> bytes:
    """A grey PNG whose header declares `width` x `height` with almost no pixel data: a
    decompression bomb as far as any reader that trusts the header can tell."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * min(height, 4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows)
            + chunk(b"IEND", b""))


def run_isolated(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `code` in a fresh Python with the repository importable; a crash (SIGSEGV) shows
    as a negative return code instead of taking pytest down."""
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
