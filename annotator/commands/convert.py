"""PLACEHOLDER: replaced by the module's owner. `vos-annotator convert`."""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("convert", help="(not built yet)")
    parser.set_defaults(run=lambda args: print("convert: not built yet") or 1)
