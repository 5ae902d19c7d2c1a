"""`vos-annotator batch propagate|evaluate`: a whole dataset, video by video in parallel, on this
machine or a Ray cluster; resumable, and a failing video never stops the others."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from annotator.commands.evaluate import add_evaluation_options, report, setup
from annotator.commands.propagate import add_engine_options, engine_options
from annotator.engine.batch import Failed, Placement, Progress, run_jobs
from annotator.engine.choices import PropagationOptions
from annotator.engine.worker_pool import describe_os_error
from annotator.errors import AnnotatorError

VERBS = ("propagate", "evaluate")
PROPAGATE_DESCRIPTION = (
    "For each video of the dataset at ROOT (LVOS, DAVIS, LV-VIS or labelme layout), start from "
    "its own masks (the first one, or all of them), propagate them through the video and write "
    "it to OUT in the LVOS layout: JPEGImages/<video>/ (frames hard-linked where possible), "
    "Annotations/<video>/ (one palette PNG per frame) with LVOS frame ids, and "
    "<split>_meta.json. Each video is moved into place whole, then recorded as finished in "
    "OUT/.batch/propagate/; a rerun skips the finished videos and does the others from their "
    "start (--force redoes all). A video that fails is tried once more, then reported; the "
    "others go on, and the exit code is 1 if any failed. Videos run in worker processes here, "
    "or as Ray tasks with --ray (every node needs vos-annotator installed and OUT at the same "
    "path)."
)
EVALUATE_DESCRIPTION = (
    "Score a whole set as `evaluate` does (same protocols, same CSV files and notes), one "
    "sequence per job in parallel: in worker processes here, or as Ray tasks with --ray. Each "
    "sequence's scores are recorded in CSV/.batch/; a rerun scores only the sequences whose "
    "masks changed or that failed (--force scores all). A sequence that fails is tried once "
    "more, then reported; the CSV files are written only when every sequence is scored."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "batch",
        help="propagate or evaluate a whole dataset in parallel (processes or a Ray cluster)",
        description="Batch jobs over a whole dataset: `batch propagate ROOT --out DIR` and "
        "`batch evaluate --gt ROOT --pred DIR --csv DIR`. The older form `batch ROOT --out "
        "DIR` still works as `batch propagate` (deprecated).",
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    propagate = verbs.add_parser("propagate", help="propagate every video's masks",
                                 description=PROPAGATE_DESCRIPTION)
    propagate.add_argument("root", type=Path, help="a dataset root")
    propagate.add_argument("--out", type=Path, required=True,
                           help="output folder (an LVOS layout)")
    propagate.add_argument("--split", help="the split, where the dataset has several (also "
                           "names the output's <split>_meta.json)")
    propagate.add_argument("--videos", nargs="+", metavar="VIDEO", help="only these videos")
    propagate.add_argument(
        "--keyframes", choices=("first", "all"), default="first",
        help="start from the first mask of each video (default) or from all of them",
    )
    add_engine_options(propagate)
    _add_run_options(propagate, gpus=True)
    propagate.set_defaults(run=run_propagate)
    evaluate = verbs.add_parser("evaluate", help="score a whole set's predictions",
                                description=EVALUATE_DESCRIPTION)
    add_evaluation_options(evaluate)
    evaluate.add_argument("--csv", type=Path, required=True,
                          help="folder for the CSV files, their notes and the per-sequence "
                          "records")
    _add_run_options(evaluate, gpus=False)
    evaluate.set_defaults(run=run_evaluate)


def _add_run_options(parser: argparse.ArgumentParser, gpus: bool) -> None:
    parser.add_argument("--workers", type=int,
                        help="worker processes here (default: one per core); with --ray alone, "
                        "the CPUs of the Ray instance started here")
    parser.add_argument(
        "--ray", nargs="?", const="here", metavar="ADDRESS",
        help="run as Ray tasks, one per video: 'auto' joins this machine's cluster, "
        "ray://HOST:10001 a remote one, no value starts Ray here",
    )
    parser.add_argument("--cpus-per-task", type=float, default=1.0,
                        help="Ray: CPUs each task asks for (default 1)")
    if gpus:
        parser.add_argument("--gpus-per-task", type=float,
                            help="Ray: GPUs each task asks for (default 1 with --device cuda, "
                            "else 0: the tasks run on CPUs)")
    parser.add_argument("--force", action="store_true",
                        help="redo every video, finished or not")


def legacy_argv(argv: Sequence[str]) -> list[str]:
    """`batch ROOT --out DIR ...` (the form before the verbs) as `batch propagate ROOT ...`,
    with a deprecation note."""
    args = list(argv)
    if args[:1] == ["batch"] and len(args) > 1 and args[1] not in (*VERBS, "-h", "--help"):
        print("vos-annotator: note: `batch ROOT --out DIR` is deprecated; it now reads "
              "`batch propagate ROOT --out DIR`", file=sys.stderr)
        args.insert(1, "propagate")
    return args


def _placement(args: argparse.Namespace, gpus: float = 0.0) -> Placement:
    if args.ray is None:
        return Placement("local", args.workers, gpus=gpus)
    address = None if args.ray == "here" else args.ray
    return Placement("ray", args.workers, address, args.cpus_per_task, gpus)


def task_gpus(asked: float | None, options: PropagationOptions, on_ray: bool) -> float:
    """GPUs per Ray task: as asked, else one when the engine is to run on CUDA, else none."""
    if asked is not None:
        return asked
    on_cuda = (options.device or "").startswith("cuda") and options.engine != "classic"
    return 1.0 if on_ray and on_cuda else 0.0


class _Report:
    """What a batch command prints on stderr: a line per ended job with the progress, retries,
    and a summary that names every failure."""

    def __init__(self, verb: str, total: int) -> None:
        self.verb = verb
        self.progress = Progress(total)
        self.failures: list[tuple[str, Failed]] = []

    def say(self, text: str) -> None:
        print(f"batch {self.verb}: {text}", file=sys.stderr, flush=True)

    def ended(self, name: str, outcome: Failed | None, frames: int = 0, what: str = "") -> None:
        if outcome is not None:
            self.failures.append((name, outcome))
            what = f"FAILED: {outcome.reason}"
        self.say(self.progress.add(frames, f"{name}: {what}"))

    def retry(self, name: str, reason: str) -> None:
        self.say(f"{name}: failed, trying once more: {reason}")

    def summary(self, kept: int) -> None:
        earlier = f" ({kept} finished earlier, kept)" if kept else ""
        done = self.progress.total - len(self.failures)
        self.say(f"{done} done, {len(self.failures)} failed{earlier}")
        for name, failed in self.failures:
            self.say(f"FAILED {name} ({failed.attempts} attempts): {failed.reason}")


def run_propagate(args: argparse.Namespace) -> int:
    from annotator.engine.dataset_propagation import (
        PropagationJob,
        PropagationSettings,
        VideoDone,
        plan_propagation,
        propagate_dataset_video,
        write_meta,
    )

    options = engine_options(args)
    placement = _placement(args, task_gpus(args.gpus_per_task, options, args.ray is not None))
    settings = PropagationSettings(str(args.root), str(args.out), args.split, args.keyframes,
                                   args.direction, options)
    planned = plan_propagation(settings, args.videos, args.force)
    jobs = planned.jobs
    kept = f"{len(planned.kept)} finished earlier (kept), " if planned.kept else ""
    shown = _Report("propagate", len(jobs))
    shown.say(f"{kept}{len(jobs)} video(s) to do on {placement.describe(len(jobs))}")
    engines: set[str] = set()
    notes: list[str] = []

    def done(job: PropagationJob, outcome: VideoDone | Failed) -> None:
        if isinstance(outcome, Failed):
            shown.ended(job.video, outcome)
            return
        if outcome.engine not in engines:
            engines.add(outcome.engine)
            shown.say(f"engine: {outcome.engine}")
        notes.extend(outcome.notes)
        rate = outcome.frames / max(outcome.seconds, 1e-9)
        shown.ended(job.video, None, outcome.frames, f"{outcome.frames} frames in "
                    f"{outcome.seconds:.1f} s ({rate:.1f} frames/s)")

    meta_failed = False
    try:
        run_jobs(propagate_dataset_video, jobs, placement, done,
                 lambda job, reason: shown.retry(job.video, reason))
    finally:
        try:
            meta, listed = write_meta(Path(settings.out), planned.split)
            written = f"{listed} video(s) finished in {args.out}, listed in {meta.name}"
        except (OSError, AnnotatorError) as exc:
            meta_failed = True
            why = describe_os_error(exc) if isinstance(exc, OSError) else str(exc)
            written = f"FAILED to write the meta JSON: {why}"
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    shown.summary(len(planned.kept))
    shown.say(written)
    return 1 if shown.failures or meta_failed else 0


def run_evaluate(args: argparse.Namespace) -> int:
    from annotator.engine.batch_evaluation import (
        EvaluationJob,
        SequenceScores,
        merge,
        plan_evaluation,
        records_kind,
        score_sequence,
    )

    chosen = setup(args)
    placement = _placement(args)
    jobs, kept = plan_evaluation(chosen.plan.tracks, chosen.gt_root, chosen.pred_root, args.csv,
                                 records_kind(chosen.set_name), args.force)
    shown = _Report("evaluate", len(jobs))
    earlier = f"{len(kept)} scored earlier (kept), " if kept else ""
    shown.say(f"{earlier}{len(jobs)} sequence(s) to score on {placement.describe(len(jobs))}")
    parts = dict(kept)

    def done(job: EvaluationJob, outcome: SequenceScores | Failed) -> None:
        if isinstance(outcome, Failed):
            shown.ended(job.sequence, outcome)
            return
        parts[job.sequence] = outcome.evaluation
        shown.ended(job.sequence, None, outcome.frames,
                    f"{outcome.frames} frames in {outcome.seconds:.1f} s")

    run_jobs(score_sequence, jobs, placement, done,
             lambda job, reason: shown.retry(job.sequence, reason))
    shown.summary(len(kept))
    if shown.failures:
        shown.say("no results written: they would leave out the failed sequence(s); fix them "
                  "and run again (the scored sequences are kept)")
        return 1
    report(chosen, merge(chosen.plan.tracks, parts), args.csv)
    return 0
