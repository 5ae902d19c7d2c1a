"""`vos-annotator convert SRC DST --to FORMAT`: rewrite a dataset in another layout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from annotator.formats.convert import FORMATS, Options, convert
from annotator.formats.frame_ids import LVOS_FIRST_ID, LVOS_ID_STEP, IdScheme


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert a dataset to another layout",
        description="Read SRC (LVOS, DAVIS, LV-VIS, labelme, a frame folder or a video file) "
        "and write it to DST in the chosen layout; docs/FORMATS.md describes each one. "
        "A video's output folders must be empty (see --replace).",
    )
    parser.add_argument("src", type=Path, help="dataset root, frame folder or video file")
    parser.add_argument("dst", type=Path, help="output folder (created if needed)")
    parser.add_argument("--to", required=True, choices=FORMATS, help="output layout")
    parser.add_argument(
        "--split",
        help="split name: picks SRC's split when it holds several, and names the output meta, "
        "instances or sequence-list files (default: SRC's split, else the DST folder name or "
        "'train'; the LVOS toolkit reads 'valid' and 'test')",
    )
    parser.add_argument(
        "--categories",
        type=Path,
        help="categories file (JSON list of {id, name, partition} or one name a line); "
        "LV-VIS category ids and partitions come from it",
    )
    parser.add_argument("--video", action="append", help="only this video (repeatable)")
    parser.add_argument(
        "--first-id", type=int, metavar="N",
        help=f"lvos, youtube-vos-valid: 8-digit frame ids from N (LVOS: {LVOS_FIRST_ID}). "
        "Default: the source's own frame numbers when they step evenly, else LVOS's ids",
    )
    parser.add_argument(
        "--id-step", type=int, metavar="S",
        help=f"lvos, youtube-vos-valid: step between frame ids (LVOS: {LVOS_ID_STEP}); with only "
        "one of --first-id and --id-step the other is LVOS's",
    )
    parser.add_argument(
        "--no-frames", action="store_true",
        help="lvvis: write the JSON only; its file names then refer to SRC's frames",
    )
    parser.add_argument(
        "--replace", action="store_true",
        help="rewrite videos that DST already holds from an earlier run (their frames, masks "
        "and labelme files there are removed first); without it such videos are refused",
    )
    parser.add_argument(
        "--instances", type=Path, metavar="JSON",
        help="lvvis-results: the ground-truth instances JSON whose video ids, frames and "
        "categories the results must use",
    )
    parser.add_argument(
        "--scores", type=Path, metavar="JSON",
        help='lvvis-results: {"<video>": {"<object id>": score}} (default score 1.0)',
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    def log(message: str) -> None:
        print(message, file=sys.stderr)

    ids = None
    if args.first_id is not None or args.id_step is not None:
        ids = IdScheme(
            LVOS_FIRST_ID if args.first_id is None else args.first_id,
            LVOS_ID_STEP if args.id_step is None else args.id_step,
        )
    options = Options(
        ids=ids,
        frames=not args.no_frames,
        replace=args.replace,
        reference=args.instances,
        scores=args.scores,
    )
    done = convert(
        args.src, args.dst, args.to, args.split, args.categories, args.video, log, options
    )
    for note in done.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"converted {len(done.videos)} video(s) to {args.to} in {args.dst}")
    for path in done.files:
        print(f"wrote {path}")
    return 0
