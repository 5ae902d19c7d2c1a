"""PLACEHOLDER: replaced by the module's owner. `vos-annotator weights`."""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("weights", help="(not built yet)")
    parser.set_defaults(run=lambda args: print("weights: not built yet") or 1)
