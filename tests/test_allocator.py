"""The allocator settings keep a worker thread's large blocks for reuse: after the first
rounds, allocating and freeing 25 MB arrays on two threads faults in (almost) no fresh pages,
and the freed blocks stay in the process (the resident memory does not fall when they are
freed); settings the user made through glibc's environment variables win."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

ROUNDS = """
import os, resource, sys, threading
import numpy as np
from annotator.allocator import tune_allocator
print(tune_allocator())
def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
def work(faults):
    for _ in range(6):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        held = [np.ones(25 << 17) for _ in range(4)]  # four 25 MB arrays alive at once
        del held
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
faults = [[], []]
threads = [threading.Thread(target=work, args=(f,)) for f in faults]
for t in threads: t.start()
for t in threads: t.join()
print(sum(f[-1] + f[-2] + f[-3] for f in faults))
def hold_and_free(dropped):
    held = [np.ones(25 << 17) for _ in range(4)]
    holding = resident()
    del held
    dropped.append((holding - resident()) >> 20)
dropped = []
thread = threading.Thread(target=hold_and_free, args=(dropped,))
thread.start()
thread.join()
print(dropped[0])
"""


def run_rounds(env: dict[str, str]) -> tuple[str, int, int]:
    """Whether the settings were taken, the page faults of the last three rounds (both
    threads) and by how many MB the resident memory fell when a new thread freed 100 MB."""
    done = subprocess.run(
        [sys.executable, "-c", ROUNDS], cwd=REPO, env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True, text=True, check=True,
    )
    taken, faults, kept = done.stdout.split()
    return taken, int(faults), int(kept)


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_large_blocks_freed_on_worker_threads_are_reused_without_page_faults():
    taken, faults, dropped = run_rounds({"PYTHONPATH": str(REPO)})
    assert taken == "True"
    allocated_pages = 3 * 2 * 4 * (25 << 20) // 4096  # the last three rounds, both threads
    assert faults < 0.01 * allocated_pages, faults
    assert dropped < 10, dropped  # kept for the next frame


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_settings_the_user_made_in_the_environment_are_left_alone():
    taken, _, dropped = run_rounds(
        {"PYTHONPATH": str(REPO), "MALLOC_ARENA_MAX": "8", "MALLOC_MMAP_THRESHOLD_": "131072",
         "MALLOC_TRIM_THRESHOLD_": "131072"}
    )
    assert taken == "True"  # nothing left to set, nothing refused
    assert dropped > 90, dropped  # each block was unmapped when freed: the user's choice
