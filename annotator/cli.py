"""The `vos-annotator` command: every headless job the GUI can do, one subcommand each."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from annotator import __version__
from annotator.allocator import tune_allocator
from annotator.commands import COMMAND_MODULES
from annotator.commands.batch import legacy_argv
from annotator.errors import AnnotatorError, describe_os_error


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vos-annotator", description="Annotate, propagate, convert and evaluate VOS data."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"annotator.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    tune_allocator()
    args = build_parser().parse_args(legacy_argv(sys.argv[1:] if argv is None else argv))
    try:
        return int(args.run(args) or 0)
    except AnnotatorError as exc:
        print(f"vos-annotator: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # read-only or full disk, a file where a folder should be, ...
        print(f"vos-annotator: error: {describe_os_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vos-annotator: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
