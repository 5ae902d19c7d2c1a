"""Runs one job per video in parallel: a local process pool, or a Ray cluster when one is named."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Literal, TypeVar, get_args

from annotator.errors import AnnotatorError

Job = TypeVar("Job")
Result = TypeVar("Result")
OnResult = Callable[[Job, Result], None]  # called with each job and its result as it finishes
Backend = Literal["local", "ray"]
BACKENDS: tuple[Backend, ...] = get_args(Backend)


def run_jobs(
    function: Callable[[Job], Result],
    jobs: Sequence[Job],
    backend: Backend = "local",
    workers: int | None = None,
    address: str | None = None,
    on_result: OnResult[Job, Result] | None = None,
) -> list[Result]:
    """Apply a module-level `function` to every job; results come back in the jobs' order.

    `backend` "local" uses `workers` processes on this machine (default: one per core, at most
    one per job). "ray" submits each job as a Ray task: to the cluster at `address` ("auto" for
    the one this machine belongs to, "ray://host:10001" for a remote head), or to a Ray instance
    started here when `address` is None. Every cluster node needs this package installed.
    `on_result(job, result)` is called in the caller's process as each job finishes.
    """
    if backend not in BACKENDS:
        raise AnnotatorError(f"unknown batch backend {backend!r} (one of {', '.join(BACKENDS)})")
    if not jobs:
        return []
    if backend == "ray":
        return _run_on_ray(function, jobs, address, on_result)
    return _run_in_processes(function, jobs, workers, on_result)


def _run_in_processes(function: Callable[[Job], Result], jobs: Sequence[Job],
                      workers: int | None, on_result: OnResult[Job, Result] | None,
                      ) -> list[Result]:
    count = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    results: dict[int, Result] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(count, mp_context=context, initializer=_share_cores,
                             initargs=(count,)) as pool:
        futures = {pool.submit(function, job): position for position, job in enumerate(jobs)}
        for future in as_completed(futures):
            position = futures[future]
            results[position] = future.result()
            if on_result is not None:
                on_result(jobs[position], results[position])
    return [results[position] for position in range(len(jobs))]


def _share_cores(workers: int) -> None:
    """Give each worker process its share of the cores so they do not oversubscribe them."""
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def _run_on_ray(function: Callable[[Job], Result], jobs: Sequence[Job], address: str | None,
                on_result: OnResult[Job, Result] | None) -> list[Result]:
    try:
        import ray
    except ImportError as exc:
        raise AnnotatorError(
            "the Ray backend needs Ray: pip install 'vos-annotator[cluster]'"
        ) from exc
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise AnnotatorError(f"cannot reach the Ray cluster at {address!r}: {exc}") from exc
    try:
        task = ray.remote(function)
        pending = {task.remote(job): position for position, job in enumerate(jobs)}
        results: dict[int, Result] = {}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            position = pending.pop(ready[0])
            results[position] = ray.get(ready[0])
            if on_result is not None:
                on_result(jobs[position], results[position])
        return [results[position] for position in range(len(jobs))]
    finally:
        if started_here:
            ray.shutdown()
