"""`vos-annotator weights`: list, add and download model checkpoints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("weights", help="list, add or download model weights")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="known weights, which are present and where")
    listing.set_defaults(run=run_list)
    add = actions.add_parser("add", help="verify a checkpoint you have and register it")
    add.add_argument("path", type=Path)
    add.add_argument("--name", help="what it should be (vit_t, vit_b, vit_l, vit_h, "
                     "sam2.1_tiny, sam2.1_small, sam2.1_base_plus, sam2.1_large, stcn); read from "
                     "the file when left out")
    add.add_argument("--copy", action="store_true",
                     help="copy it into the weights folder instead of recording where it is")
    add.set_defaults(run=run_add)
    download = actions.add_parser("download", help="download known weights (asks nothing "
                                  "else; needs the network)")
    download.add_argument("name")
    download.set_defaults(run=run_download)


def run_list(args: argparse.Namespace) -> int:
    from annotator.engine.weights import list_weights, weights_dir

    print(f"weights folder: {weights_dir()} (set VOS_ANNOTATOR_WEIGHTS to change)")
    for status in list_weights():
        known = status.known
        size = f"{known.size / 1e6:.0f} MB" if known.size else "size unknown"
        where = str(status.path) if status.present else "missing"
        print(f"  {known.name:16} {known.filename:25} {size:>12}  {where}  - "
              f"{known.description}")
    return 0


def run_add(args: argparse.Namespace) -> int:
    from annotator.engine.weights_add import add_weights

    added = add_weights(args.path, args.name, copy=args.copy)
    check = {True: "matches the official SHA-256", False: "differs from the official file "
             "(a fine-tuned or other release; registered as given)",
             None: "no published sum; this one is recorded"}[added.official]
    print(f"registered {added.name}: {added.path}")
    print(f"  sha256 {added.sha256} ({check})")
    return 0


def run_download(args: argparse.Namespace) -> int:
    from annotator.engine.weights_download import download_weights

    def progress(done: int, total: int | None) -> None:
        shown = f"{done / 1e6:8.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else "")
        sys.stderr.write(f"\r  {shown}")
        sys.stderr.flush()

    path = download_weights(args.name, progress)
    sys.stderr.write("\n")
    print(f"downloaded and verified: {path}")
    return 0
