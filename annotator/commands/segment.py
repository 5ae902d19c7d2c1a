"""PLACEHOLDER: replaced by the module's owner. `vos-annotator segment`."""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("segment", help="(not built yet)")
    parser.set_defaults(run=lambda args: print("segment: not built yet") or 1)
