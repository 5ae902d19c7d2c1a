"""Several frames of one STCN pass in flight at once, on worker threads.

On a CPU, single-threaded workers on different frames keep the cores busier than one frame's
operators split over the same threads: a 3x3 convolution scales by about 1.6 from one thread to
two on the 2-core development machine, two frames side by side by about 1.8
(`benchmarks/propagation.py --compare` measures the whole pass against the reference).

What may overlap follows from the memory: the frames between two memory writes all read the
same memory, so their key encodings run ahead and their segmentations run side by side; a write
waits until every frame before it has read the memory, and no later frame reads before it is in.
Results are yielded in order, so the pass gives exactly what the sequential loop would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Sequence
from typing import Generic, Protocol, TypeVar

import torch

# More workers than this would mostly wait: at most `mem_every` frames read the same memory.
MAX_WORKERS = 4

MemoryWrite = Callable[[], None]
Encoded = TypeVar("Encoded")


class PassSteps(Protocol[Encoded]):
    """The work of one pass, cut where frames can overlap; `position` counts targets from 0."""

    def keyframe(self, number: int) -> MemoryWrite:
        """Encodes the `number`-th keyframe; the returned call stores it in the memory."""
        ...

    def encode(self, position: int) -> Encoded:
        """Key features of a target (no memory involved)."""
        ...

    def segment(self, encoded: Encoded) -> tuple[torch.Tensor, torch.Tensor]:
        """Reads the memory: the probabilities to remember and the ones to yield."""
        ...

    def remember(self, position: int, encoded: Encoded, probs: torch.Tensor) -> MemoryWrite:
        """Encodes a target's value; the returned call stores it in the memory."""
        ...


def worker_split(threads: int, parallel: bool) -> tuple[int, int]:
    """(workers, threads per worker) for `threads` compute threads."""
    if not parallel or threads < 2:
        return 1, max(1, threads)
    workers = min(threads, MAX_WORKERS)
    return workers, max(1, threads // workers)


class _Stopped(Exception):
    """The consumer closed the pass."""


def _exit() -> None:
    """The task that tells a worker there is nothing left."""


class FramePipeline(Generic[Encoded]):
    """Runs `steps` on `workers` threads for the targets, `writes[p]` saying whether target p's
    value goes into the memory; `results` gives each target's probabilities in order."""

    def __init__(
        self,
        steps: PassSteps[Encoded],
        keyframes: int,
        writes: Sequence[bool],
        workers: int,
        threads_per_worker: int,
    ) -> None:
        self._steps = steps
        self._length = len(writes)
        self._writes = list(writes)
        self._workers = workers
        self._threads = threads_per_worker
        self._lookahead = workers + 1  # key encodings ahead of the consumer: ~50 MB each at 480p
        self._state = threading.Condition()
        self._keyframes = keyframes
        self._keyframes_to_start = list(range(keyframes))
        self._keyframe_writes: dict[int, MemoryWrite] = {}
        self._keyframes_stored = 0  # stored in order, so the memory's slots follow the keyframes
        self._next_encode = 0
        self._encoded: dict[int, Encoded] = {}
        self._next_segment = 0
        self._segmented: set[int] = set()
        self._segmented_prefix = 0  # targets 0 .. prefix-1 have all read the memory
        self._barrier = self._next_write(0)  # the first write not yet in the memory
        self._to_remember: dict[int, torch.Tensor] = {}
        self._remembering = False
        self._pending_write: MemoryWrite | None = None
        self._results: dict[int, torch.Tensor] = {}
        self._next_yield = 0
        self._error: BaseException | None = None
        self._closed = False

    def _next_write(self, start: int) -> int:
        """The first position from `start` whose value is written (the length if none)."""
        return next((p for p in range(start, self._length) if self._writes[p]), self._length)

    def results(self) -> Generator[torch.Tensor, None, None]:
        """Starts the workers; closing the generator stops and joins them."""
        ready = threading.Barrier(self._workers + 1)
        threads = [
            threading.Thread(target=self._work, args=(ready,), name=f"stcn-{n}", daemon=True)
            for n in range(self._workers)
        ]
        previous = torch.get_num_threads()
        for thread in threads:
            thread.start()
        ready.wait()
        # A worker's set_num_threads also set the count new threads start with: put it back.
        torch.set_num_threads(previous)
        try:
            for position in range(self._length):
                with self._state:
                    self._state.wait_for(
                        lambda p=position: p in self._results or self._error is not None
                    )
                    if self._error is not None:
                        raise self._error
                    result = self._results.pop(position)
                    self._next_yield = position + 1
                    self._state.notify_all()
                yield result
        finally:
            with self._state:
                self._closed = True
                self._state.notify_all()
            for thread in threads:
                thread.join()

    def _work(self, ready: threading.Barrier) -> None:
        # torch sets a thread's count from the process-wide one on its first operator: that must
        # happen before this thread's own count is set, or it would undo it.
        torch.get_num_threads()
        torch.set_num_threads(self._threads)
        ready.wait()
        try:
            while True:
                with self._state:
                    task = self._state.wait_for(self._take)
                if task is _exit:
                    return
                task()
        except _Stopped:
            return
        except BaseException as error:  # handed to the consumer, which raises it
            with self._state:
                self._error = self._error or error
                self._closed = True
                self._state.notify_all()

    def _finished(self) -> bool:
        return self._segmented_prefix == self._length and self._pending_write is None

    def _take(self) -> Callable[[], None] | None:
        """Under the lock: the next task by priority (memory first, then the frames in order,
        then key encodings ahead), `_exit` when there is nothing left, None to wait."""
        if self._closed or self._finished():
            return _exit
        if self._keyframes_to_start:
            number = self._keyframes_to_start.pop(0)
            return lambda: self._run_keyframe(number)
        barrier = self._barrier
        if not self._remembering and barrier in self._to_remember:
            self._remembering = True
            encoded, probs = self._encoded[barrier], self._to_remember[barrier]
            return lambda: self._run_remember(barrier, encoded, probs)
        position = self._next_segment
        memory_ready = self._keyframes_stored == self._keyframes and position <= barrier
        if memory_ready and position in self._encoded:
            self._next_segment += 1
            encoded = self._encoded[position]
            return lambda: self._run_segment(position, encoded)
        position = self._next_encode
        if position < min(self._length, self._next_yield + self._lookahead):
            self._next_encode += 1
            return lambda: self._run_encode(position)
        return None

    def _commit(self, action: Callable[[], None]) -> None:
        with self._state:
            if self._closed:
                raise _Stopped
            action()
            self._state.notify_all()

    def _run_keyframe(self, number: int) -> None:
        write = self._steps.keyframe(number)

        def store() -> None:
            self._keyframe_writes[number] = write
            while self._keyframes_stored in self._keyframe_writes:
                self._keyframe_writes.pop(self._keyframes_stored)()
                self._keyframes_stored += 1

        self._commit(store)

    def _run_encode(self, position: int) -> None:
        encoded = self._steps.encode(position)
        self._commit(lambda: self._encoded.__setitem__(position, encoded))

    def _run_segment(self, position: int, encoded: Encoded) -> None:
        kept, result = self._steps.segment(encoded)

        def store() -> None:
            self._results[position] = result
            self._segmented.add(position)
            while self._segmented_prefix in self._segmented:
                self._segmented.discard(self._segmented_prefix)
                self._segmented_prefix += 1
            if self._writes[position]:
                self._to_remember[position] = kept
            else:
                del self._encoded[position]
            self._write_when_read()

        self._commit(store)

    def _run_remember(self, position: int, encoded: Encoded, probs: torch.Tensor) -> None:
        write = self._steps.remember(position, encoded, probs)

        def store() -> None:
            self._pending_write = write
            self._write_when_read()

        self._commit(store)

    def _write_when_read(self) -> None:
        """Under the lock: the pending write goes in once every frame up to it has read."""
        position = self._barrier
        if self._pending_write is None or self._segmented_prefix <= position:
            return
        self._pending_write()
        self._pending_write = None
        self._remembering = False
        del self._to_remember[position], self._encoded[position]
        self._barrier = self._next_write(position + 1)
