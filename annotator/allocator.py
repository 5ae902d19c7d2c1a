"""The C allocator's settings for a process that does large tensor work on several threads.

glibc's malloc gives each thread that allocates its own arena. A worker thread's arena is made
of heaps of at most 64 MB that are shrunk or unmapped as blocks are freed, so each frame's
large feature maps (about 25 MB each for STCN at 480p) come back as fresh pages that the kernel
must fault in and zero: about a million page faults over 20 STCN frames on the 2-core
development machine, 8 % of the pass's CPU time (`docs/BENCHMARKS.md`). One arena for every
thread (its heap is not limited to 64 MB), blocks up to 32 MB (glibc's largest setting) served
from it and up to 512 MB of freed memory kept for reuse remove those faults after the first
frames; what is kept counts in the resident memory until it is reused.

`tune_allocator` must run at the start of the process, before any thread allocates: threads
that already have an arena keep it. It changes nothing off glibc, and leaves alone any setting
the user made through glibc's own environment variables. The headless command and the batch
workers call it; the window does not: kept memory would take its peak over the 1 GB it must
stay under with the weights-free engines on a long video (1,025 against 941 MB in
`benchmarks/gui_long_video.py`), and less kept memory (64 MB) brings the faults back.
"""

from __future__ import annotations

import ctypes
import os
import platform

# mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

SETTINGS = (
    (M_ARENA_MAX, 1, "MALLOC_ARENA_MAX"),
    (M_MMAP_THRESHOLD, 32 << 20, "MALLOC_MMAP_THRESHOLD_"),
    (M_TRIM_THRESHOLD, 512 << 20, "MALLOC_TRIM_THRESHOLD_"),
)


def tune_allocator() -> bool:
    """Applies `SETTINGS` (those the environment does not set); whether glibc took them all."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    taken = [mallopt(parameter, value) == 1 for parameter, value, variable in SETTINGS
             if variable not in os.environ]
    return all(taken)
