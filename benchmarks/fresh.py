"""Runs one benchmark function in a fresh (spawned) Python process: every measurement starts
cold, and the peak RSS it reads is its own."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any


def in_fresh_process(
    function: Callable[[dict[str, Any]], dict[str, Any]], settings: dict[str, Any]
) -> dict[str, Any]:
    """`function(settings)` in a new process; `function` must be importable by name."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, (settings,))
