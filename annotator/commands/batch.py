"""`vos-annotator batch`: propagate every video of a dataset, on this machine or a Ray cluster."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from annotator.commands.propagate import add_engine_options


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "batch",
        help="propagate every video of a dataset in parallel (processes or a Ray cluster)",
        description="For each video of the dataset at ROOT (LVOS, DAVIS or LV-VIS layout), start "
        "from its own masks (the first one, or all of them) and write one palette PNG per frame "
        "to OUT/<video>/. Videos run in parallel: in worker processes here, or as Ray tasks with "
        "--ray (every node needs vos-annotator installed). A video that fails is reported and "
        "the others go on; the exit code is 1 if any failed.",
    )
    parser.add_argument("root", type=Path, help="a dataset root")
    parser.add_argument("--out", type=Path, required=True, help="folder for <video>/<frame>.png")
    parser.add_argument("--split", help="the split, where the dataset has several")
    parser.add_argument("--videos", nargs="+", metavar="VIDEO", help="only these videos")
    parser.add_argument(
        "--keyframes", choices=("first", "all"), default="first",
        help="start from the first mask of each video (default) or from all of them",
    )
    add_engine_options(parser)
    parser.add_argument("--workers", type=int, help="local worker processes (default: cores)")
    parser.add_argument(
        "--ray", nargs="?", const="local", metavar="ADDRESS",
        help="run on Ray: 'auto' joins this machine's cluster, ray://HOST:10001 a remote one, "
        "no value starts Ray here",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from annotator.engine.batch import run_jobs
    from annotator.engine.dataset_propagation import PropagationJob, propagate_dataset_video
    from annotator.errors import AnnotatorError
    from annotator.video.dataset import open_dataset

    dataset = open_dataset(args.root, args.split)
    videos = args.videos or dataset.videos
    unknown = sorted(set(videos) - set(dataset.videos))
    if unknown:
        raise AnnotatorError(f"no video named {', '.join(unknown)} in the dataset", args.root)
    jobs = [
        PropagationJob(
            root=str(dataset.root), video=video, out=str(args.out.resolve()), split=dataset.split,
            keyframes=args.keyframes, direction=args.direction, engine=args.engine,
            weights=str(args.weights) if args.weights else None, device=args.device,
            top_k=args.top_k, mem_every=args.mem_every, memory_frames=args.memory_frames,
        )
        for video in videos
    ]
    failed = 0

    def report(job: PropagationJob, outcome) -> None:
        nonlocal failed
        if outcome.error:
            failed += 1
            print(f"batch: {job.video}: FAILED: {outcome.error}", file=sys.stderr)
        else:
            rate = outcome.frames_written / max(outcome.seconds, 1e-9)
            print(f"batch: {job.video}: {outcome.frames_written} masks in {outcome.seconds:.1f} s "
                  f"({rate:.1f} frames/s)", file=sys.stderr)

    backend = "ray" if args.ray else "local"
    address = None if args.ray in (None, "local") else args.ray
    print(f"batch: {len(jobs)} video(s) on {backend}", file=sys.stderr)
    run_jobs(propagate_dataset_video, jobs, backend, args.workers, address, on_result=report)
    done = len(jobs) - failed
    print(f"batch: {done} done, {failed} failed; masks in {args.out}", file=sys.stderr)
    return 1 if failed else 0
