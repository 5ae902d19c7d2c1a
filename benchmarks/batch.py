"""Batch propagation throughput: videos per minute with 1 and 2 local worker processes.

    python benchmarks/batch.py [--davis PATH] [--videos 6] [--frames 20] [--engine classic]
                               [--workers 1 2]

Builds a DAVIS-layout set of the first --frames frames of --videos dev sequences, then runs
`batch propagate` on it (into an empty output folder each time) with each worker count and
prints wall-clock videos per minute and frames per second, worker start-up included (a long
run amortises it), with the machine's load average before and after: figures taken on a
loaded machine are not comparable; take the final ones on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from annotator.engine.batch import Failed, Placement, run_jobs  # noqa: E402
from annotator.engine.choices import PropagationOptions  # noqa: E402
from annotator.engine.dataset_propagation import (  # noqa: E402
    PropagationSettings,
    plan_propagation,
    propagate_dataset_video,
    write_meta,
)

DEFAULT_DAVIS = REPO.parent / "shared" / "data" / "davis16-dev"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def build_set(davis: Path, root: Path, videos: int, frames: int) -> list[str]:
    sequences = sorted(p.name for p in (davis / "JPEGImages" / "480p").iterdir())[:videos]
    for sequence in sequences:
        for kind in ("JPEGImages", "Annotations"):
            source = davis / kind / "480p" / sequence
            target = root / kind / "480p" / sequence
            target.mkdir(parents=True)
            for file in sorted(source.iterdir())[:frames]:
                shutil.copy(file, target / file.name)
    return sequences


def run(root: Path, out: Path, engine: str, workers: int) -> tuple[float, int, int]:
    """Seconds, videos done and frames written by one batch propagation."""
    settings = PropagationSettings(str(root), str(out), engine=PropagationOptions(engine))
    planned = plan_propagation(settings)
    started = time.perf_counter()
    outcomes = run_jobs(propagate_dataset_video, planned.jobs, Placement("local", workers))
    seconds = time.perf_counter() - started
    write_meta(out, planned.split)
    done = [o for o in outcomes if not isinstance(o, Failed)]
    for outcome in outcomes:
        if isinstance(outcome, Failed):
            print(f"  failed: {outcome.reason}")
    return seconds, len(done), sum(o.frames for o in done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--davis", type=Path, default=DEFAULT_DAVIS)
    parser.add_argument("--videos", type=int, default=6)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--engine", default="classic")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "davis"
        names = build_set(args.davis, root, args.videos, args.frames)
        print(f"{len(names)} videos x {args.frames} frames (854x480), engine {args.engine}")
        for workers in args.workers:
            before = load()
            seconds, videos, frames = run(root, Path(folder) / f"out-{workers}", args.engine,
                                          workers)
            print(f"{workers} worker(s): {videos} videos in {seconds:.1f} s = "
                  f"{videos / seconds * 60:.2f} videos/min, {frames / seconds:.2f} frames/s")
            print(f"  before: {before}; after: {load()}")


if __name__ == "__main__":
    main()
