"""Worker processes on this machine that run one job at a time each; a worker that dies (a
crash in native code, the kernel's OOM killer) fails its own job only and is replaced."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import connection, get_context
from multiprocessing.process import BaseProcess
from typing import Any

from annotator.allocator import tune_allocator
from annotator.errors import AnnotatorError

PARENT_CHECK_S = 0.2  # how often a worker looks whether the process that started it is gone


@dataclass(frozen=True)
class Attempt:
    """One run of a job: its result, or why it failed (one line for a person)."""

    result: Any = None
    reason: str | None = None


def attempt(function: Callable[[Any], Any], job: Any) -> Attempt:
    """`function(job)` with any exception turned into a failure's reason: an AnnotatorError
    (a problem with the person's files) or an OSError (a full disk, a read-only folder) says
    what it is; anything else is named an internal error, with the place it was raised."""
    try:
        return Attempt(function(job))
    except AnnotatorError as exc:
        return Attempt(reason=str(exc))
    except OSError as exc:
        return Attempt(reason=describe_os_error(exc))
    except Exception as exc:  # any bug must fail this job only, with its reason
        return Attempt(reason=describe_bug(exc))


def describe_os_error(exc: OSError) -> str:
    """`path: No space left on device`: an operating system error in one line."""
    what = exc.strerror or str(exc)
    return f"{exc.filename}: {what}" if exc.filename else what


def describe_bug(exc: BaseException) -> str:
    """`Type: message (internal error at file:line)` for an exception that is no AnnotatorError."""
    where = ""
    trace = exc.__traceback__
    while trace is not None and trace.tb_next is not None:
        trace = trace.tb_next
    if trace is not None:
        code = trace.tb_frame.f_code
        where = f" at {os.path.basename(code.co_filename)}:{trace.tb_lineno}"
    message = " ".join(str(exc).split()) or "(no message)"
    return f"internal error{where}: {type(exc).__name__}: {message}"


def died(exitcode: int | None) -> str:
    """Why a worker process ended, from its exit code."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the worker process died ({name})"
    return f"the worker process ended (exit code {exitcode})"


@dataclass
class _Worker:
    process: BaseProcess
    conn: connection.Connection
    key: int | None = None  # the job it runs, if any


@dataclass
class WorkerPool:
    """Up to `size` worker processes (spawned, each using `threads` threads) running
    `function` (a module-level function: it is sent to them by name) on submitted jobs."""

    function: Callable[[Any], Any]
    size: int
    threads: int = 1
    _queue: deque[tuple[int, Any]] = field(default_factory=deque)
    _workers: list[_Worker] = field(default_factory=list)

    def submit(self, key: int, job: Any) -> None:
        """Queue `job`; `next_done` gives it back under `key`."""
        self._queue.append((key, job))
        self._dispatch()

    def next_done(self) -> tuple[int, Attempt]:
        """Wait for the next job to finish (or its worker to die)."""
        busy = [w for w in self._workers if w.key is not None]
        if not busy:
            raise RuntimeError("no job is running")
        while True:
            connection.wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
            for worker in busy:
                done = self._collect(worker)
                if done is not None:
                    self._dispatch()
                    return done

    def _collect(self, worker: _Worker) -> tuple[int, Attempt] | None:
        key = worker.key
        assert key is not None
        try:
            if worker.conn.poll():
                sent_key, outcome = worker.conn.recv()
                worker.key = None
                return sent_key, outcome
        except (EOFError, OSError):
            pass
        if worker.process.is_alive():
            return None
        worker.process.join()
        self._workers.remove(worker)
        worker.conn.close()
        return key, Attempt(reason=died(worker.process.exitcode))

    def _dispatch(self) -> None:
        """Give queued jobs to idle workers, starting workers up to `size`."""
        while self._queue:
            idle = next((w for w in self._workers if w.key is None), None)
            if idle is None:
                if len(self._workers) >= self.size:
                    return
                idle = self._start()
            key, job = self._queue[0]
            try:
                idle.conn.send((key, job))
            except OSError:  # it died while idle: another one takes the job
                self._workers.remove(idle)
                idle.process.join()
                idle.conn.close()
                continue
            self._queue.popleft()
            idle.key = key

    def _start(self) -> _Worker:
        context = get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_serve, args=(theirs, self.function, self.threads, os.getpid()), daemon=True
        )
        process.start()
        theirs.close()
        worker = _Worker(process, ours)
        self._workers.append(worker)
        return worker

    def close(self) -> None:
        """Stop the workers: idle ones at once, busy ones killed (their jobs are abandoned)."""
        for worker in self._workers:
            try:
                if worker.key is None:
                    worker.conn.send(None)
                else:
                    worker.process.kill()
            except OSError:
                worker.process.kill()
        for worker in self._workers:
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._workers.clear()
        self._queue.clear()


def _serve(conn: connection.Connection, function: Callable[[Any], Any], threads: int,
           parent: int) -> None:
    """A worker's life: run each job it is sent, send back its attempt; end with its parent.
    Ctrl-C is the parent's to handle (it stops the workers)."""
    tune_allocator()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_threads(threads)
    threading.Thread(target=_end_with_parent, args=(parent,), daemon=True).start()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        key, job = message
        conn.send((key, attempt(function, job)))


def limit_threads(threads: int) -> None:
    """Keep this process's numeric libraries to `threads` threads (torch reads the variables
    when it is imported, which the jobs do lazily; OpenCV is told directly)."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    import cv2

    cv2.setNumThreads(threads)


def _end_with_parent(parent: int) -> None:
    """Exit at once when the process that started this worker is gone (killed, say): a
    worker must not go on writing outputs that a new run is about to write."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)
