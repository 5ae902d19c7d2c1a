"""`vos-annotator evaluate`: J, F and V of predicted masks, as the LVOS/DAVIS toolkits score."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from annotator.errors import AnnotatorError
from annotator.formats.names import plain_name
from annotator.quality.evaluation import Evaluation, evaluate, global_table, protocol_notes
from annotator.quality.plan import (
    DEFAULT_SETS,
    PROTOCOLS,
    Plan,
    davis2017_plan,
    davis_sequence_list,
    lvos_plan,
    mask_root,
    read_name_list,
    sequences_in,
)
from annotator.quality.report import format_table, write_csvs

DESCRIPTION = (
    "Score predicted masks against ground truth on the frames an official toolkit "
    "scores. --protocol davis2017 (the DAVIS 2017 semi-supervised toolkit): every "
    "ground-truth mask but the first and the last, objects 1 .. the first mask's "
    "highest id, sequences from ImageSets/2017/<set>.txt when the ground truth has it. "
    "--protocol lvos (the LVOS toolkit): for each object of the LVOS meta file the ids "
    "range(start, end, 5) of its frame_range less the first, named {id:08d}.png; "
    "means over seen and unseen videos as the toolkit takes them. Where a toolkit "
    "would slip on the files (see docs/FORMATS.md) the figures follow its rule and the "
    "notes say what the toolkit would print instead."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score predicted masks against ground truth (J, F, V)",
        description=DESCRIPTION,
    )
    add_evaluation_options(parser)
    parser.add_argument("--csv", type=Path, help="folder for the two CSV result files and "
                        "their notes")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="worker processes (default: one per core)")
    parser.set_defaults(run=run)


def add_evaluation_options(parser: argparse.ArgumentParser) -> None:
    """What to score and how, shared by `evaluate` and `batch evaluate` (read by `setup`)."""
    parser.add_argument("--gt", required=True, type=Path, help="GT masks: <dir>/<seq>/<frame>.png "
                        "or a dataset root with Annotations/ (or Annotations/480p/)")
    parser.add_argument("--pred", required=True, type=Path, help="predicted masks, same layout")
    parser.add_argument(
        "--protocol", choices=PROTOCOLS,
        help="whose frame choice: davis2017 or lvos (default: lvos with --meta, else davis2017)",
    )
    parser.add_argument("--meta", type=Path, help="LVOS <set>_meta.json with frame ranges "
                        "(default for lvos: <set>_meta.json in the --gt dataset root)")
    parser.add_argument("--unseen", type=Path, help="lvos: unseen videos, one a line")
    parser.add_argument("--set", help="set name in the CSV names and the lists (default: val "
                        "for davis2017, valid for lvos)")


def _progress(done: int, total: int) -> None:
    if done == total or done % 25 == 0:
        end = "\n" if done == total else ""
        print(f"\rscoring frames: {done}/{total}", end=end, file=sys.stderr, flush=True)


def _plan(args: argparse.Namespace, protocol: str, set_name: str, gt_root: Path) -> Plan:
    if protocol == "lvos":
        meta = args.meta or args.gt / f"{set_name}_meta.json"
        if not meta.is_file():
            raise AnnotatorError("no LVOS meta file here; give one with --meta", meta)
        return lvos_plan(meta, gt_root)
    listed = davis_sequence_list(args.gt, set_name)
    return davis2017_plan(gt_root, listed if listed is not None else sequences_in(gt_root))


@dataclass(frozen=True)
class Setup:
    """An evaluation as the options ask for it: protocol, set, where the masks are, the plan."""

    protocol: str
    set_name: str
    gt_root: Path
    pred_root: Path
    plan: Plan
    unseen: set[str] | None


def setup(args: argparse.Namespace) -> Setup:
    """Read the options of `add_evaluation_options`: the protocol's plan over the ground truth."""
    protocol = args.protocol or ("lvos" if args.meta is not None else "davis2017")
    set_name = plain_name(args.set or DEFAULT_SETS[protocol], "set")
    gt_root = mask_root(args.gt)
    pred_root = mask_root(args.pred)
    plan = _plan(args, protocol, set_name, gt_root)
    unseen = read_name_list(args.unseen) if args.unseen is not None else None
    return Setup(protocol, set_name, gt_root, pred_root, plan, unseen)


def report(chosen: Setup, evaluation: Evaluation, csv: Path | None) -> None:
    """Print the table and the notes; write the CSV files and notes to `csv` when given."""
    row = global_table(evaluation.results, chosen.protocol, chosen.unseen)
    notes = chosen.plan.notes + protocol_notes(chosen.protocol, evaluation, chosen.unseen)
    print(format_table(evaluation.results, row))
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if csv is not None:
        for path in write_csvs(csv, chosen.set_name, evaluation.results, row, notes):
            print(f"wrote {path}")


def run(args: argparse.Namespace) -> int:
    chosen = setup(args)
    for sequence in sorted({t.sequence for t in chosen.plan.tracks}):
        if not (chosen.pred_root / sequence).is_dir():
            raise AnnotatorError(f"no predictions for sequence {sequence!r}",
                                 chosen.pred_root / sequence)
    evaluation = evaluate(chosen.plan.tracks, chosen.gt_root, chosen.pred_root, jobs=args.jobs,
                          progress=_progress)
    report(chosen, evaluation, args.csv)
    return 0
