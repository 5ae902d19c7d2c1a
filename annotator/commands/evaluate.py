"""`vos-annotator evaluate`: J, F and V of predicted masks, as the LVOS/DAVIS toolkits score."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from annotator.errors import AnnotatorError
from annotator.quality.evaluation import evaluate, global_table
from annotator.quality.plan import (
    davis_tracks,
    lvos_tracks,
    mask_root,
    read_name_list,
    sequences_in,
)
from annotator.quality.report import format_table, write_csvs


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score predicted masks against ground truth (J, F, V)",
        description=(
            "Score predicted masks against ground truth. Without --meta, every frame but the first "
            "and the last of each GT sequence is scored (DAVIS); with an LVOS meta file, every 5th "
            "frame of each object's frame range (LVOS)."
        ),
    )
    parser.add_argument("--gt", required=True, type=Path, help="GT masks: <dir>/<seq>/<frame>.png "
                        "or a dataset root with Annotations/ (or Annotations/480p/)")
    parser.add_argument("--pred", required=True, type=Path, help="predicted masks, same layout")
    parser.add_argument("--meta", type=Path, help="LVOS <split>_meta.json with frame ranges")
    parser.add_argument("--unseen", type=Path, help="list of unseen sequences, one a line")
    parser.add_argument("--csv", type=Path, help="folder for the two CSV result files")
    parser.add_argument("--set", default="val", help="set name in the CSV names (default val)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="worker processes (default: one per core)")
    parser.set_defaults(run=run)


def _progress(done: int, total: int) -> None:
    if done == total or done % 25 == 0:
        end = "\n" if done == total else ""
        print(f"\rscoring frames: {done}/{total}", end=end, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    gt_root = mask_root(args.gt)
    pred_root = mask_root(args.pred)
    if args.meta is not None:
        tracks = lvos_tracks(args.meta, gt_root)
    else:
        tracks = davis_tracks(gt_root, sequences_in(gt_root))
    for sequence in sorted({t.sequence for t in tracks}):
        if not (pred_root / sequence).is_dir():
            raise AnnotatorError(f"no predictions for sequence {sequence!r}", pred_root / sequence)
    unseen = read_name_list(args.unseen) if args.unseen is not None else None
    results = evaluate(tracks, gt_root, pred_root, jobs=args.jobs, progress=_progress)
    row = global_table(results, unseen)
    print(format_table(results, row))
    if args.csv is not None:
        for path in write_csvs(args.csv, args.set, results, row):
            print(f"wrote {path}")
    return 0
