"""Runs one job per video in parallel, on worker processes here or as Ray tasks on a cluster.

A job that fails (its error, a crashed worker, a lost node) is tried once more, later; if it
fails again it is reported with its reason. A failure never stops the other jobs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar, get_args

from annotator.engine.worker_pool import Attempt, WorkerPool, attempt
from annotator.errors import AnnotatorError

Job = TypeVar("Job")
Result = TypeVar("Result")
Backend = Literal["local", "ray"]
BACKENDS: tuple[Backend, ...] = get_args(Backend)
ATTEMPTS = 2  # a failing job is tried this many times in all


@dataclass(frozen=True)
class Failed:
    """A job that failed on every attempt: the last attempt's reason, one line for a person."""

    reason: str
    attempts: int


@dataclass(frozen=True)
class Placement:
    """Where jobs run. "local": `workers` processes on this machine (default one per core, at
    most one per job). "ray": one Ray task per job, each asking for `cpus` CPUs and `gpus`
    GPUs, on the cluster at `address` ("auto": the one this machine belongs to,
    "ray://host:10001": a remote head) or on a Ray instance started here (None; `workers`
    then caps its CPUs). Every Ray node needs this package installed."""

    backend: Backend = "local"
    workers: int | None = None
    address: str | None = None
    cpus: float = 1.0
    gpus: float = 0.0

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise AnnotatorError(
                f"unknown batch backend {self.backend!r} (one of {', '.join(BACKENDS)})")
        if self.workers is not None and self.workers < 1:
            raise AnnotatorError(f"need at least one worker, not {self.workers}")
        if self.cpus < 0 or self.gpus < 0:
            raise AnnotatorError("CPUs and GPUs per task cannot be negative")
        if self.gpus and self.backend != "ray":
            raise AnnotatorError("GPUs per task are for Ray tasks (--ray); local workers use "
                                 "the device the engine picks")

    def local_workers(self, jobs: int) -> int:
        return max(1, min(self.workers or os.cpu_count() or 1, jobs))

    def describe(self, jobs: int) -> str:
        """Where the jobs run, in a few words."""
        if self.backend == "local":
            return f"{self.local_workers(jobs)} worker process(es) here"
        where = "a Ray instance started here" if self.address is None else self.address
        gpus = f", {self.gpus:g} GPU" if self.gpus else ""
        return f"Ray tasks ({self.cpus:g} CPU{gpus} each) on {where}"


def run_jobs(
    function: Callable[[Job], Result],
    jobs: Sequence[Job],
    placement: Placement | None = None,
    on_done: Callable[[Job, Result | Failed], None] | None = None,
    on_retry: Callable[[Job, str], None] | None = None,
    attempts: int = ATTEMPTS,
) -> list[Result | Failed]:
    """Apply a module-level `function` to every job; outcomes come back in the jobs' order.

    `on_done(job, outcome)` is called in this process as each job ends (after its last
    attempt), `on_retry(job, reason)` when a failed job is queued again.
    """
    placement = placement or Placement()
    if not jobs:
        return []
    runner: _Runner
    if placement.backend == "ray":
        runner = _RayTasks(function, placement)
    else:
        count = placement.local_workers(len(jobs))
        runner = WorkerPool(function, count, max(1, (os.cpu_count() or 1) // count))
    tries = [1] * len(jobs)
    outcomes: dict[int, Result | Failed] = {}
    try:
        for key, job in enumerate(jobs):
            runner.submit(key, job)
        while len(outcomes) < len(jobs):
            key, done = runner.next_done()
            outcome: Result | Failed
            if done.reason is None:
                outcome = done.result
            elif tries[key] < attempts:
                tries[key] += 1
                if on_retry is not None:
                    on_retry(jobs[key], done.reason)
                runner.submit(key, jobs[key])
                continue
            else:
                outcome = Failed(done.reason, tries[key])
            outcomes[key] = outcome
            if on_done is not None:
                on_done(jobs[key], outcome)
    finally:
        runner.close()
    return [outcomes[key] for key in range(len(jobs))]


class _Runner(Protocol):
    def submit(self, key: int, job: Any) -> None: ...

    def next_done(self) -> tuple[int, Attempt]: ...

    def close(self) -> None: ...


class _RayTasks:
    """Each job a Ray task (no Ray-side retries: `run_jobs` retries)."""

    def __init__(self, function: Callable[[Any], Any], placement: Placement) -> None:
        try:
            import ray
        except ImportError as exc:
            raise AnnotatorError(
                "the Ray backend needs Ray: pip install 'vos-annotator[cluster]'") from exc
        self._ray: Any = ray
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        self._started_here = not ray.is_initialized()
        if self._started_here:
            cpus = placement.workers if placement.address is None else None
            try:
                ray.init(address=placement.address, num_cpus=cpus, include_dashboard=False,
                         log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise AnnotatorError(
                    f"cannot reach the Ray cluster at {placement.address!r}: {exc}") from exc
        self._check_gpus(placement.gpus)
        self._function = function
        self._task = ray.remote(attempt).options(
            num_cpus=placement.cpus, num_gpus=placement.gpus, max_retries=0)
        self._pending: dict[Any, int] = {}

    def _check_gpus(self, gpus: float) -> None:
        """A task that asks for more GPUs than the cluster has would wait for ever."""
        present = float(self._ray.cluster_resources().get("GPU", 0))
        if gpus > present:
            if self._started_here:
                self._ray.shutdown()
            raise AnnotatorError(f"tasks ask for {gpus:g} GPU each but the Ray cluster has "
                                 f"{present:g}")

    def submit(self, key: int, job: Any) -> None:
        self._pending[self._task.remote(self._function, job)] = key

    def next_done(self) -> tuple[int, Attempt]:
        ready, _ = self._ray.wait(list(self._pending), num_returns=1)
        key = self._pending.pop(ready[0])
        try:
            done: Attempt = self._ray.get(ready[0])
        except self._ray.exceptions.RayError as exc:
            lines = [line for line in str(exc).splitlines() if line.strip()]
            done = Attempt(reason=f"the Ray task failed: {type(exc).__name__}: "
                                  f"{lines[0] if lines else ''}")
        return key, done

    def close(self) -> None:
        for ref in self._pending:
            self._ray.cancel(ref, force=True)
        self._pending.clear()
        if self._started_here:
            self._ray.shutdown()


@dataclass
class Progress:
    """Jobs ended of `total`, frames per second and the time left, for one line per job."""

    total: int
    started: float = field(default_factory=time.monotonic)
    ended: int = 0
    frames: int = 0

    def add(self, frames: int, what: str) -> str:
        """Count one ended job that handled `frames` frames; `what` it did, with the progress."""
        self.ended += 1
        self.frames += frames
        elapsed = max(time.monotonic() - self.started, 1e-9)
        left = elapsed / self.ended * (self.total - self.ended)
        return (f"[{self.ended}/{self.total}] {what}; {self.frames / elapsed:.1f} frames/s "
                f"overall, {duration(left)} left")


def duration(seconds: float) -> str:
    """`2 h 05 min`, `3 min 20 s` or `12 s`."""
    whole = round(seconds)
    if whole >= 3600:
        return f"{whole // 3600} h {whole % 3600 // 60:02d} min"
    if whole >= 60:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole} s"
